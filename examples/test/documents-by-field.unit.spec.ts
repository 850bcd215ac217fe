/**
 * The fold of the documents-by-field example (document-changes.ts) on hand-written log entries shaped as the Crud
 * Store writes them: whole documents, merge patches, whole documents as updates, deletions; and the entries it must
 * refuse rather than absorb (a repeat, a gap, a change of a document it does not hold).
 */
import { create } from "@bufbuild/protobuf";
import { AppLogEntrySchema, type AppLogEntry } from "@eskit/client";
import { describe, expect, it } from "vitest";
import type { CustomerRow } from "../documents-by-field/customers-table.js";
import { foldChanges, UnexpectedChangeError } from "../documents-by-field/document-changes.js";

const type = "acme.Customer";
let nextLogId = 1n;

function entry(
  action: string,
  id: string,
  version: bigint,
  payload: unknown,
  metadata: Record<string, string> = {},
): AppLogEntry {
  return create(AppLogEntrySchema, {
    id: nextLogId++,
    event: {
      originator: { id, version },
      eventType: `${type}.${action}`,
      payload: JSON.stringify(payload),
      metadata: { "eskit.source": "crud-store", ...metadata },
    },
  });
}
const created = (id: string, document: object) => entry("Created", id, 1n, document);
const patched = (id: string, version: bigint, patch: object) =>
  entry("Updated", id, version, patch, { "eskit.encoding": "merge-patch" });
const replaced = (id: string, version: bigint, document: object) =>
  entry("Updated", id, version, document, { "eskit.encoding": "document" });
const deleted = (id: string, version: bigint) => entry("Deleted", id, version, {});
const rows = (...list: CustomerRow[]) => new Map(list.map((row) => [row.id, row]));

describe("foldChanges", () => {
  it("creates, merge-patches (nested fields, a field removed by null), replaces and deletes documents", () => {
    const outcome = foldChanges(
      type,
      [
        created("ada", { email: "ada@x.io", country: "FR", plan: "free", address: { city: "Paris", zip: "75001" } }),
        created("bob", { email: "bob@x.io", country: "DE" }),
        patched("ada", 2n, { plan: "pro", address: { zip: null, street: "rue X" } }),
        replaced("bob", 2n, { email: "bob@x.io", country: "US", note: null }),
        created("cyd", { country: "FR" }),
        deleted("cyd", 2n),
      ],
      new Map(),
    );
    expect(outcome.live).toEqual([
      {
        id: "ada",
        version: 2n,
        document: { email: "ada@x.io", country: "FR", plan: "pro", address: { city: "Paris", street: "rue X" } },
      },
      { id: "bob", version: 2n, document: { email: "bob@x.io", country: "US", note: null } },
    ]);
    expect(outcome.deleted).toEqual(["cyd"]);
  });

  it("starts from the rows the read model holds, leaves them untouched, and deletes held documents", () => {
    const ada: CustomerRow = { id: "ada", version: 4n, document: { country: "FR", tags: ["a", "b"] } };
    const bob: CustomerRow = { id: "bob", version: 2n, document: { country: "DE" } };
    const outcome = foldChanges(
      type,
      [patched("ada", 5n, { tags: ["c"], plan: "team" }), deleted("bob", 3n)],
      rows(ada, bob),
    );
    expect(outcome).toEqual({
      live: [{ id: "ada", version: 5n, document: { country: "FR", tags: ["c"], plan: "team" } }],
      deleted: ["bob"],
    });
    expect(ada.document, "the held document is not changed in place").toEqual({ country: "FR", tags: ["a", "b"] });
  });

  it("refuses an entry applied twice, a skipped version, a change of an unknown or deleted document, another event", () => {
    const ada: CustomerRow = { id: "ada", version: 2n, document: { country: "FR" } };
    const cases: Array<[string, AppLogEntry[], Map<string, CustomerRow>, RegExp]> = [
      ["a Created applied again", [created("ada", { country: "FR" })], rows(ada), /at version 2, expected 3/],
      ["an Updated applied again", [patched("ada", 2n, { plan: "pro" })], rows(ada), /at version 2, expected 3/],
      ["a skipped version", [patched("ada", 4n, { plan: "pro" })], rows(ada), /at version 2, expected 3/],
      ["an update of an unknown document", [patched("eve", 1n, { plan: "pro" })], rows(), /unknown document/],
      ["an update missing its Created", [patched("eve", 2n, { plan: "pro" })], rows(), /at version 0, expected 1/],
      ["a change after the deletion", [deleted("ada", 3n), patched("ada", 4n, {})], rows(ada), /deleted before/],
      ["an action the Crud Store never writes", [entry("Renamed", "ada", 3n, {})], rows(ada), /not an event/],
      ["a Created that is not an object", [entry("Created", "eve", 1n, [1])], rows(), /not a JSON object/],
    ];
    for (const [name, entries, before, message] of cases) {
      expect(() => foldChanges(type, entries, before), name).toThrow(UnexpectedChangeError);
      expect(() => foldChanges(type, entries, before), name).toThrow(message);
    }
    const otherType = create(AppLogEntrySchema, {
      id: nextLogId++,
      event: { originator: { id: "eve", version: 1n }, eventType: "acme.CustomerX.Created", payload: "{}" },
    });
    expect(() => foldChanges(type, [otherType], rows())).toThrow(/not an event the Crud Store writes/);
  });
});
