/**
 * Small helpers shared by the Crud Store's end-to-end tests: fresh names (so tests sharing one server never see each
 * other's documents), JSON text in and out, and an independent RFC 7396 merge patch to check the stored patches with.
 */
import { randomBytes } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import { Code, ConnectError } from "@connectrpc/connect";
import { expect } from "vitest";

export { rejection, rejectionError } from "@eskit/test-kit/rejection.js";

/** A lower-case UUID of any version, as the Crud Store generates for documents created without an id. */
export const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/u;

let counter = 0;

/** An entity type no other test uses, e.g. `test.invoice3a9f12.Doc`. */
export function freshType(label = "doc"): string {
  return `test.${label}${++counter}x${randomBytes(4).toString("hex")}.Doc`;
}

/** A document id no other test uses. */
export function freshId(label = "doc"): string {
  return `${label}-${++counter}-${randomBytes(6).toString("hex")}`;
}

/** Parses JSON text the server returned; fails with the text when it is not JSON. */
export function parse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new Error(`not JSON: ${JSON.stringify(text)} (${String(error)})`);
  }
}

/** A plain JSON object (own properties only, so a key like `__proto__` is data, not a prototype). */
export type JsonObject = { [key: string]: unknown };

/** Sets an own, enumerable property, even one named `__proto__`. */
export function setOwn(target: JsonObject, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** RFC 7396 JSON Merge Patch, written here independently of the server's implementation. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const result: JsonObject = {};
  if (isObject(target)) for (const key of Object.keys(target)) setOwn(result, key, target[key]);
  for (const key of Object.keys(patch)) {
    const value = patch[key];
    if (value === null) delete result[key];
    else setOwn(result, key, applyMergePatch(result[key], value));
  }
  return result;
}

/** The Connect code a call failed with, or "ok" when it succeeded: lets a test count outcomes of concurrent calls. */
export async function outcome(call: Promise<unknown>): Promise<Code | "ok"> {
  try {
    await call;
    return "ok";
  } catch (error) {
    return ConnectError.from(error).code;
  }
}

/** Waits `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Asserts two JSON values are equal (key order aside). Unlike `toStrictEqual` it treats every key as data, so a
 * document with a `constructor` or `__proto__` key compares by value; on a mismatch it shows both as sorted JSON.
 */
export function expectSameJson(actual: unknown, expected: unknown, label?: string): void {
  if (isDeepStrictEqual(actual, expected)) return;
  expect(sortedJson(actual), label).toBe(sortedJson(expected));
}

function sortedJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, v: unknown) =>
      isObject(v)
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, v[k]]),
          )
        : v,
    2,
  );
}
