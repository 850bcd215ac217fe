import { describe, expect, it } from "vitest";
import { ValidationError } from "./errors.js";
import { parseEventType } from "./event-type.js";

describe("parseEventType", () => {
  it("splits at the last dot", () => {
    expect(parseEventType("com.acme.User.Created")).toEqual({ entityType: "com.acme.User", action: "Created" });
    expect(parseEventType("User.Created")).toEqual({ entityType: "User", action: "Created" });
  });

  it.each(["", "User", ".Created", "User.", "User.Cre ated", "User.*", "a".repeat(250) + ".Created"])(
    "rejects %j",
    (eventType) => {
      expect(() => parseEventType(eventType)).toThrow(ValidationError);
    },
  );

  it("names the field in its message", () => {
    expect(() => parseEventType("User", "events[2].event_type")).toThrow(
      'events[2].event_type "User" is not "<EntityType>.<Action>"',
    );
  });
});
