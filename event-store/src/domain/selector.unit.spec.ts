import { describe, expect, it } from "vitest";
import { ValidationError } from "./errors.js";
import { matches, parseSelector } from "./selector.js";

describe("parseSelector", () => {
  it.each([
    ["", {}],
    ["*", {}],
    ["*.*", {}],
    ["User.*", { entityType: "User" }],
    ["User.Created", { entityType: "User", action: "Created" }],
    ["*.Deleted", { action: "Deleted" }],
    ["com.acme.User.*", { entityType: "com.acme.User" }],
    ["com.acme.User.Created", { entityType: "com.acme.User", action: "Created" }],
  ])("reads %j as %j", (selector, expected) => {
    const { entityType, action, matchesNothing } = parseSelector(selector);
    expect({ entityType, action }).toEqual({ entityType: undefined, action: undefined, ...expected });
    expect(matchesNothing).toBe(false);
  });

  it.each(["User", ".Created", "User.", "Us*er.Created", "User.Cre*", "User .Created", "a.b c"])(
    "rejects %j with a message naming it",
    (selector) => {
      expect(() => parseSelector(selector)).toThrow(ValidationError);
      expect(() => parseSelector(selector)).toThrow(`selector "${selector}" is invalid`);
    },
  );

  it("narrows to the pipeline's entity type", () => {
    expect(parseSelector("*.Created", "Order")).toMatchObject({
      entityType: "Order",
      action: "Created",
      matchesNothing: false,
    });
    expect(parseSelector("", "Order")).toMatchObject({ entityType: "Order", action: undefined, matchesNothing: false });
  });

  it("matches nothing when selector and pipeline name different entity types", () => {
    expect(parseSelector("User.*", "Order").matchesNothing).toBe(true);
  });

  it("rejects a pipeline id with a wildcard", () => {
    expect(() => parseSelector("", "Us*")).toThrow('pipeline_id "Us*" is not an entity type');
  });
});

describe("matches", () => {
  it("checks entity type and action independently", () => {
    expect(matches({}, "User", "Created")).toBe(true);
    expect(matches({ entityType: "User" }, "User", "Deleted")).toBe(true);
    expect(matches({ entityType: "User" }, "Order", "Created")).toBe(false);
    expect(matches({ action: "Deleted" }, "Order", "Deleted")).toBe(true);
    expect(matches({ entityType: "User", action: "Created" }, "User", "Updated")).toBe(false);
  });
});
