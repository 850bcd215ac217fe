import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { testSize } from "@eskit/test-kit/test-sizes.js";
import { encodeChange } from "./changes.js";
import {
  cloneJson,
  isJsonObject,
  type JsonObject,
  type JsonValue,
  parseDocument,
  serializeDocument,
} from "./json-document.js";
import { jsonEqual } from "./json-equal.js";
import { type DocumentState, replay, revisions, type StoredChange } from "./replay.js";

// Keys that trip up naive code (prototype names, empty, path-like) next to arbitrary and grapheme strings.
const key = fc.oneof(
  fc.constantFrom(
    "__proto__",
    "constructor",
    "hasOwnProperty",
    "prototype",
    "toString",
    "toJSON",
    "",
    "a",
    "b",
    "a/b~c",
  ),
  fc.string({ maxLength: 4 }),
  fc.string({ unit: "grapheme", maxLength: 3 }),
);
const number = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -0, 1e308, -1e-300, Number.MAX_SAFE_INTEGER, Number.MIN_VALUE),
);
const { value } = fc.letrec<{ value: JsonValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    number,
    fc.string({ unit: "grapheme", maxLength: 6 }),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(key, tie("value"), { maxKeys: 5 }),
  ),
}));
const freshDocument = fc.dictionary(key, value, { minKeys: 2, maxKeys: 8 });

/** A small edit to whatever the previous document is: a path picked by `path`, then one key set, nulled or removed. */
interface Edit {
  readonly path: number[];
  readonly op: "set" | "null" | "remove";
  readonly existing: boolean;
  readonly key: string;
  readonly value: JsonValue;
}
const edit: fc.Arbitrary<Edit> = fc.record({
  path: fc.array(fc.nat(), { maxLength: 3 }),
  op: fc.constantFrom("set", "set", "set", "remove", "remove", "null"),
  existing: fc.boolean(),
  key,
  value,
});
// Mostly edits, so merge patches get exercised; now and then a fresh document. Nulling is rarer than the other
// edits because a patch cannot express it: it always falls back to the document.
const step = fc.oneof(
  { weight: 1, arbitrary: freshDocument.map((document) => ({ kind: "fresh" as const, document })) },
  { weight: 6, arbitrary: edit.map((e) => ({ kind: "edit" as const, edit: e })) },
);

function applyEdit(previous: JsonObject, { path, op, existing, key: newKey, value: newValue }: Edit): JsonObject {
  const next = cloneJson(previous);
  let target = next;
  for (const seed of path) {
    const keys = Object.keys(target);
    const child = keys.length === 0 ? undefined : target[keys[seed % keys.length]!];
    if (!isJsonObject(child)) break;
    target = child;
  }
  const keys = Object.keys(target);
  const chosen = existing && keys.length > 0 ? keys[newKey.length % keys.length]! : newKey;
  if (op === "remove") delete target[chosen];
  // Defined, not assigned, so that "__proto__" becomes an own key as JSON.parse would make it.
  else {
    const value = op === "set" ? newValue : null;
    Object.defineProperty(target, chosen, { value, writable: true, enumerable: true, configurable: true });
  }
  return next;
}

/** The history as the Event Store keeps it: text in, text out. */
function throughStorage(changes: StoredChange[]): StoredChange[] {
  const text = JSON.stringify(changes.map((c) => ({ ...c, version: c.version.toString() })));
  return (
    JSON.parse(text) as { version: string; action: StoredChange["action"]; change: StoredChange["change"] }[]
  ).map((c) => ({ ...c, version: BigInt(c.version) }));
}

const snapshotOf = (state: DocumentState): DocumentState => ({
  ...state,
  document: parseDocument(serializeDocument(state.document), "snapshot"),
});

describe("exact replay", () => {
  it("reads every version back deep-equal to the document saved, from scratch and from snapshots", () => {
    const encodings = { "merge-patch": 0, document: 0 };
    fc.assert(
      fc.property(freshDocument, fc.array(step, { minLength: 0, maxLength: 29 }), (first, steps) => {
        // Documents reach the store as text: that is what the caller saved.
        let saved = parseDocument(JSON.stringify(first), "document");
        const expected: JsonObject[] = [saved];
        const creation = { payload: serializeDocument(saved), encoding: "document" } as const;
        const changes: StoredChange[] = [{ version: 1n, action: "created", change: creation }];
        for (const s of steps) {
          const next = parseDocument(
            JSON.stringify(s.kind === "fresh" ? s.document : applyEdit(saved, s.edit)),
            "document",
          );
          const change = encodeChange(saved, next);
          if (change === undefined) continue;
          encodings[change.encoding]++;
          changes.push({ version: BigInt(changes.length + 1), action: "updated", change });
          expected.push(next);
          saved = next;
        }
        const stored = throughStorage(changes);
        const wanted = expected.map((doc) => JSON.parse(JSON.stringify(doc)) as JsonObject);

        const states = [...revisions(undefined, stored)].map((r) => r.state);
        expect(states.map((s) => s.version)).toEqual(stored.map((c) => c.version));
        states.forEach((state, i) => expect(jsonEqual(state.document, wanted[i]!)).toBe(true));
        expect(jsonEqual(replay(undefined, stored)!.document, wanted.at(-1)!)).toBe(true);

        for (const every of [1, 2]) {
          for (let i = 0; i < stored.length; i++) {
            // The latest snapshot at or before version i+1, as a snapshot store would hand it back.
            const at = Math.floor((i + 1) / every) * every;
            const start = at === 0 ? undefined : snapshotOf(states[at - 1]!);
            const state = replay(start, stored.slice(at, i + 1));
            expect(jsonEqual(state!.document, wanted[i]!)).toBe(true);
          }
        }
      }),
      { numRuns: testSize(300) },
    );
    // The property proves little if everything fell back to whole documents (about 45% are patches).
    expect(encodings["merge-patch"]).toBeGreaterThan((encodings["merge-patch"] + encodings.document) / 4);
    expect(encodings.document).toBeGreaterThan(0);
  });
});
