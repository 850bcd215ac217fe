import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  actionProblem,
  entityTypeProblem,
  eventTypeProblem,
  maxEntityTypeLength,
  maxEventTypeLength,
  parseSelectorText,
  splitEventType,
} from "./event-type.js";

// Names of the grammar: no '*', white space or control characters; an action holds no dot.
const nameChar = fc.constantFrom(..."abcXYZ09_-:/é漢😀".split(""), ".");
const entityType = fc
  .array(nameChar, { minLength: 1, maxLength: 40 })
  .map((chars) => chars.join(""))
  .filter((name) => entityTypeProblem(name) === undefined);
const action = fc
  .array(
    nameChar.filter((c) => c !== "."),
    { minLength: 1, maxLength: 20 },
  )
  .map((chars) => chars.join(""));
const badChar = fc.constantFrom("*", " ", "\t", "\n", "\u0000", "\u001f", "\u007f", "\u00a0", "\u2028");

describe("the one grammar of names", () => {
  it("reads every event type made of a valid entity type and action back into those parts", () => {
    fc.assert(
      fc.property(entityType, action, (entity, act) => {
        const eventType = `${entity}.${act}`;
        expect(eventTypeProblem(eventType)).toBeUndefined();
        expect(splitEventType(eventType)).toEqual({ entityType: entity, action: act });
      }),
    );
  });

  it("selects exactly the parts of such an event type, and its entity type with a wildcard", () => {
    fc.assert(
      fc.property(entityType, action, (entity, act) => {
        expect(parseSelectorText(`${entity}.${act}`)).toEqual({ entityType: entity, action: act });
        expect(parseSelectorText(`${entity}.*`)).toEqual({ entityType: entity });
        expect(parseSelectorText(`*.${act}`)).toEqual({ action: act });
      }),
    );
  });

  it("refuses a name holding '*', white space or a control character, wherever it is", () => {
    fc.assert(
      fc.property(entityType, action, badChar, fc.nat(), (entity, act, bad, at) => {
        const eventType = `${entity}.${act}`;
        const i = at % (eventType.length + 1);
        const spoiled = eventType.slice(0, i) + bad + eventType.slice(i);
        expect(eventTypeProblem(spoiled)).toMatch(/'\*', white space or a control character|both parts/u);
        expect(entityTypeProblem(entity + bad)).toBeDefined();
        expect("problem" in parseSelectorText(`${entity}${bad}.${act}`)).toBe(true);
      }),
    );
  });

  it("holds its limits at the boundaries: a longest entity type with a one-character action is a longest event type", () => {
    const longestEntity = "e".repeat(maxEntityTypeLength);
    expect(entityTypeProblem(longestEntity)).toBeUndefined();
    expect(eventTypeProblem(`${longestEntity}.A`)).toBeUndefined();
    expect(`${longestEntity}.A`).toHaveLength(maxEventTypeLength);
    expect(entityTypeProblem(`${longestEntity}e`)).toBe(
      `entity_type is ${maxEntityTypeLength + 1} characters long: at most ${maxEntityTypeLength}`,
    );
    expect(eventTypeProblem(`${longestEntity}.AB`)).toBe(
      `event_type is ${maxEventTypeLength + 1} characters long: at most ${maxEventTypeLength}`,
    );
    // A selector part no event type could have is refused, not read as a filter that matches nothing.
    expect(parseSelectorText(`${longestEntity}e.*`)).toHaveProperty("problem");
    expect(parseSelectorText(`*.${"a".repeat(maxEventTypeLength - 1)}`)).toHaveProperty("problem");
  });

  it("names what is wrong with an event type that is not <EntityType>.<Action>", () => {
    expect(eventTypeProblem("")).toBe('event_type is empty: expected "<EntityType>.<Action>"');
    for (const eventType of ["User", "User.", ".Created"]) {
      expect(eventTypeProblem(eventType, "events[0].event_type")).toBe(
        `events[0].event_type "${eventType}" is not "<EntityType>.<Action>": both parts around the last dot must be non-empty`,
      );
    }
    expect(actionProblem("Cre.ated")).toBe('action "Cre.ated" contains a dot');
  });

  it.each(["", "*", "*.*"])("reads the selector %j as every entry", (selector) => {
    expect(parseSelectorText(selector)).toEqual({});
  });

  it.each(["User", ".Created", "User.", "Us*er.Created", "User.Cre*", "User .Created"])(
    "refuses the selector %j, naming it",
    (selector) => {
      const parsed = parseSelectorText(selector);
      expect("problem" in parsed && parsed.problem).toMatch(`selector "${selector}" is invalid`);
    },
  );
});
