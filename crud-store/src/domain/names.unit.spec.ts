import { eventTypeProblem, maxOriginatorIdLength } from "@eskit/client/event-type.js";
import { describe, expect, it } from "vitest";
import { ValidationError } from "./errors.js";
import { actionNames, checkEntityType, maxEntityTypeLength, registryIdPrefix } from "./names.js";

describe("document entity types", () => {
  it("are as long as every name stored for them lets them be: 234, set by the registry's originator ids", () => {
    expect(maxEntityTypeLength).toBe(234);
    const longest = "t".repeat(maxEntityTypeLength);
    checkEntityType(longest);
    for (const action of Object.values(actionNames)) expect(eventTypeProblem(`${longest}.${action}`)).toBeUndefined();
    expect(`${registryIdPrefix}${longest}`).toHaveLength(maxOriginatorIdLength);
    expect(() => checkEntityType(`${longest}t`)).toThrow(
      new ValidationError(`entity_type is 235 characters long: at most ${maxEntityTypeLength}`),
    );
  });

  it("follow the Event Store's grammar: '*', white space and control characters are refused, dots are not", () => {
    for (const name of ["a*b", "a b", "a\u0000b"]) expect(() => checkEntityType(name)).toThrow(ValidationError);
    for (const name of ["acme.users.v1.User", "User", "a-b_c:d", ".acme", "acme."]) checkEntityType(name);
  });

  it("keep the registry's own entity type for the registry", () => {
    expect(() => checkEntityType("eskit.crudstore.EntityType")).toThrow("reserved for the type registry");
  });
});
