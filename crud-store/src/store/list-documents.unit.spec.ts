import { describe, expect, it } from "vitest";
import { inMemoryCore } from "../../test/support/in-memory-core.js";
import { ValidationError } from "../domain/errors.js";
import type { CallScope } from "./event-store-port.js";
import { listDocuments } from "./list-documents.js";

const type = "acme.Item";
const scope: CallScope = {};

/** Five live items (b, d, e updated once), one deleted (c), and one of another type (x). */
async function catalogue() {
  const core = inMemoryCore(2);
  for (const id of ["e", "a", "d", "c", "b"]) await core.documents.create(type, id, 0n, `{"id":"${id}"}`, scope);
  for (const id of ["b", "d", "e"]) await core.documents.update(type, id, 1n, `{"id":"${id}","v":2}`, scope);
  await core.documents.create(type, "f", 0n, '{"id":"f"}', scope);
  await core.documents.delete(type, "c", 1n, scope);
  await core.documents.create("acme.Other", "x", 0n, "{}", scope);
  return core;
}

describe("listDocuments on an in-memory Event Store", () => {
  it("pages through the live documents of one type in id order, each at its latest version", async () => {
    const core = await catalogue();
    const pages: Array<Array<[string, bigint, unknown]>> = [];
    let pageToken = "";
    do {
      const page = await listDocuments(
        core.eventStore,
        core.states,
        { entityType: type, pageToken, limit: 2, skipPayload: false },
        scope,
      );
      pages.push(page.documents.map((d) => [d.id, d.version, d.document]));
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    expect(pages).toEqual([
      [
        ["a", 1n, { id: "a" }],
        ["b", 2n, { id: "b", v: 2 }],
      ],
      [
        ["d", 2n, { id: "d", v: 2 }],
        ["e", 2n, { id: "e", v: 2 }],
      ],
      [["f", 1n, { id: "f" }]],
    ]);
  });

  it("leaves the documents out when asked to skip payloads, reading no events", async () => {
    const core = await catalogue();
    const since = core.eventStore.calls.length;
    const page = await listDocuments(
      core.eventStore,
      core.states,
      { entityType: type, pageToken: "", limit: 0, skipPayload: true },
      scope,
    );
    expect(page.documents.map((d) => [d.id, d.version, d.document])).toEqual([
      ["a", 1n, undefined],
      ["b", 2n, undefined],
      ["d", 2n, undefined],
      ["e", 2n, undefined],
      ["f", 1n, undefined],
    ]);
    expect(page.nextPageToken).toBe("");
    expect(core.eventStore.calls.slice(since).map((c) => c.method)).toEqual(["listOriginators"]);
  });

  it("refuses a limit above 1000 and a page token of another RPC with ValidationError", async () => {
    const core = await catalogue();
    const request = { entityType: type, pageToken: "", limit: 1001, skipPayload: false };
    await expect(listDocuments(core.eventStore, core.states, request, scope)).rejects.toThrow(ValidationError);
    const foreign = Buffer.from("history:3").toString("base64url");
    await expect(
      listDocuments(core.eventStore, core.states, { ...request, limit: 2, pageToken: foreign }, scope),
    ).rejects.toThrow(ValidationError);
  });
});
