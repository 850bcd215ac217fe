import { describe, expect, it } from "vitest";
import { filterSubjectOf, subjectOf } from "./subjects.js";

describe("subjects", () => {
  it("puts the entity type and the action in one token each, escaping dots, > and %", () => {
    expect(subjectOf("eskit.log", "User.Created")).toBe("eskit.log.User.Created");
    expect(subjectOf("eskit.log", "com.acme.User.Deleted")).toBe("eskit.log.com%2Eacme%2EUser.Deleted");
    expect(subjectOf("p", "a>b%c.>")).toBe("p.a%3Eb%25c.%3E");
  });

  it("turns each selector form into the filter that matches the same subjects", () => {
    expect(filterSubjectOf("p", "")).toBe("p.>");
    expect(filterSubjectOf("p", "*")).toBe("p.>");
    expect(filterSubjectOf("p", "*.*")).toBe("p.>");
    expect(filterSubjectOf("p", "com.acme.User.*")).toBe("p.com%2Eacme%2EUser.*");
    expect(filterSubjectOf("p", "*.Deleted")).toBe("p.*.Deleted");
    expect(filterSubjectOf("p", "User.Created")).toBe(subjectOf("p", "User.Created"));
  });

  it("rejects a selector the Event Store would reject", () => {
    expect(() => filterSubjectOf("p", "User")).toThrow(RangeError);
  });
});
