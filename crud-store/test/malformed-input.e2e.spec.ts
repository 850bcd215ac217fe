import { Code, createClient } from "@connectrpc/connect";
import { CrudStoreService as CrudStoreServiceV1 } from "@eskit/gen/contracts/crudstore/service_pb.js";
import { deepJson } from "@eskit/test-kit/hostile-requests.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { protocols, startCrudStoreHarness, transportFor, type CrudStoreHarness } from "./harness.js";
import { freshId, freshType, rejection } from "./support/documents.js";

// Documents and numbers the Crud Store cannot keep, through real servers, once per protocol, ours and v1. Before, a
// document nested 10,000 deep overflowed the stack in json-document.ts (`internal`).

let harness: CrudStoreHarness;
beforeAll(async () => {
  harness = await startCrudStoreHarness();
});
afterAll(async () => {
  await harness?.stop();
});

const depthMessage = "payload nests arrays and objects more than 100 levels deep (ESKIT_MAX_DOCUMENT_DEPTH)";

describe.each(protocols)("malformed input to the Crud Store over %s", (protocol) => {
  it("refuses a document nested 10,000 deep in Create and Update, ours and v1, with invalid_argument", async () => {
    const ours = harness.clients(protocol).crud;
    const v1 = createClient(CrudStoreServiceV1, transportFor(harness.url, protocol));
    const entityType = freshType("deep");
    await ours.registerType({ spec: { entityType } });
    const id = freshId();
    await ours.create({ entityType, originator: { id }, payload: '{"a":1}' });
    const head = (await harness.eventStoreClient().getHead({})).headId;
    for (const payload of [deepJson(10_000), deepJson(10_000, "array").replace(/^\[/u, '{"x":[').concat("}")]) {
      const calls = [
        () => ours.create({ entityType, originator: { id: freshId() }, payload }),
        () => ours.update({ entityType, originator: { id, version: 1n }, payload }),
        () => v1.create({ entityType, originator: { id: freshId(), version: "" }, payload }),
        () => v1.update({ entityType, originator: { id, version: "1" }, payload }),
      ];
      for (const call of calls)
        expect(await rejection(call())).toEqual({ code: Code.InvalidArgument, message: depthMessage });
    }
    // A document at the limit is fine.
    await ours.update({ entityType, originator: { id, version: 1n }, payload: deepJson(99) });
    expect((await harness.eventStoreClient().getHead({})).headId).toBe(head + 1n);
    expect((await ours.list({ entityType })).results.map((d) => d.originator?.id)).toEqual([id]);
  });

  it("answers a payload whose JSON error names half of a surrogate pair (before: no answer at all over gRPC)", async () => {
    // V8's JSON.parse names the UTF-16 unit it stopped at, here the high half of U+2C19B; gRPC and gRPC-Web send the
    // message percent-encoded, and encodeURIComponent throws on a lone surrogate, so the answer was never written.
    const ours = harness.clients(protocol).crud;
    const entityType = freshType("surrogate");
    const head = (await harness.eventStoreClient().getHead({})).headId;
    const refused = await rejection(
      ours.create({ entityType, originator: { id: freshId() }, payload: "\t\u{2c19b}\u{10fffd}" }, { timeoutMs: 4000 }),
    );
    expect(refused.code).toBe(Code.InvalidArgument);
    expect(refused.message).toMatch(/^payload is not valid JSON/u);
    expect(refused.message).toContain("\ufffd");
    expect((await harness.eventStoreClient().getHead({})).headId).toBe(head);
  });

  it("refuses a uint64 above 2^63-1 (version, schema version) with invalid_argument", async () => {
    const ours = harness.clients(protocol).crud;
    const entityType = freshType("big");
    const big = 2n ** 64n - 1n;
    expect(await rejection(ours.get({ entityType, originator: { id: "a", version: big } }))).toEqual({
      code: Code.InvalidArgument,
      message: `originator.version is ${big}: at most 9223372036854775807 (64-bit values are stored signed)`,
    });
    expect(
      await rejection(
        ours.registerType({ spec: { entityType, schemaSpec: { schemaVersion: big, jsonSchema: "{}" } } }),
      ),
    ).toMatchObject({ code: Code.InvalidArgument });
    expect((await ours.listTypes({})).results.map((t) => t.entityType)).not.toContain(entityType);
  });
});
