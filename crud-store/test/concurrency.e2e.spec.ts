import { Code } from "@connectrpc/connect";
import type { ListResult } from "@eskit/gen/eskit/crudstore/v1/crud_store_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { protocols, startCrudStoreHarness, type CrudClient, type CrudStoreHarness } from "./harness.js";
import { expectSameJson, freshId, freshType, outcome, parse } from "./support/documents.js";

// Many clients, each on its own connection (over the three protocols in turn), against one Crud Store.
let harness: CrudStoreHarness;
let clients: CrudClient[];
const clientCount = 9;

beforeAll(async () => {
  harness = await startCrudStoreHarness({ snapshotEvery: 3 });
  clients = Array.from({ length: clientCount }, (_, i) => harness.clients(protocols[i % protocols.length]).crud);
});
afterAll(async () => {
  await harness?.stop();
});

const json = (value: unknown): string => JSON.stringify(value);

describe("clients writing the same document at once", () => {
  it("exactly one Update of a version wins, every other is aborted, and the document is the winner's", async () => {
    const entityType = freshType();
    const id = freshId();
    await clients[0]!.create({ entityType, originator: { id }, payload: json({ round: 0, writer: -1 }) });
    for (let round = 1; round <= 6; round++) {
      const version = BigInt(round);
      const results = await Promise.all(
        clients.map((client, writer) =>
          outcome(
            client.update({
              entityType,
              originator: { id, version },
              payload: json({ round, writer, pad: "x".repeat(writer * 10) }),
            }),
          ),
        ),
      );
      const winners = results.flatMap((result, writer) => (result === "ok" ? [writer] : []));
      expect(winners, `round ${round}: ${JSON.stringify(results)}`).toHaveLength(1);
      expect(
        results.filter((r) => r !== "ok"),
        `round ${round}`,
      ).toEqual(Array<Code>(clientCount - 1).fill(Code.Aborted));
      const read = await clients[0]!.get({ entityType, originator: { id } });
      expect(read.originator?.version).toBe(version + 1n);
      expectSameJson(parse(read.payload), { round, writer: winners[0], pad: "x".repeat(winners[0]! * 10) });
    }
    const events = await harness.eventStoreClient().readEvents(id);
    expect(events.map((e) => e.originator?.version)).toEqual([1n, 2n, 3n, 4n, 5n, 6n, 7n]);
  });

  it("exactly one Update wins across two Crud Store replicas on the same event store", async () => {
    const replica = await harness.addCrudStore();
    const both = [
      ...clients.slice(0, 4),
      ...protocols.map((p) => replica.clients(p).crud),
      replica.clients("grpc").crud,
    ];
    const entityType = freshType();
    const id = freshId();
    await clients[0]!.create({ entityType, originator: { id }, payload: json({ writer: -1 }) });
    for (let round = 1; round <= 5; round++) {
      const version = BigInt(round);
      const results = await Promise.all(
        both.map((client, writer) =>
          outcome(client.update({ entityType, originator: { id, version }, payload: json({ writer, round }) })),
        ),
      );
      const winners = results.flatMap((result, writer) => (result === "ok" ? [writer] : []));
      expect(winners, `round ${round}: ${JSON.stringify(results)}`).toHaveLength(1);
      expect(results.filter((r) => r !== "ok")).toEqual(Array<Code>(both.length - 1).fill(Code.Aborted));
      for (const reader of [clients[0]!, replica.clients("grpc").crud]) {
        const read = await reader.get({ entityType, originator: { id } });
        expect(read.originator?.version).toBe(version + 1n);
        expectSameJson(parse(read.payload), { writer: winners[0], round });
      }
    }
  });

  it("exactly one Create of an id wins, every other gets already_exists", async () => {
    const entityType = freshType();
    for (let round = 0; round < 4; round++) {
      const id = freshId();
      const results = await Promise.all(
        clients.map((client, writer) =>
          outcome(client.create({ entityType, originator: { id }, payload: json({ writer }) })),
        ),
      );
      const winners = results.flatMap((result, writer) => (result === "ok" ? [writer] : []));
      expect(winners, JSON.stringify(results)).toHaveLength(1);
      expect(results.filter((r) => r !== "ok")).toEqual(Array<Code>(clientCount - 1).fill(Code.AlreadyExists));
      expectSameJson(parse((await clients[0]!.get({ entityType, originator: { id } })).payload), {
        writer: winners[0],
      });
    }
  });

  it("exactly one Delete wins; the others are aborted or not_found", async () => {
    const entityType = freshType();
    for (const withVersion of [true, false]) {
      const id = freshId();
      await clients[0]!.create({ entityType, originator: { id }, payload: "{}" });
      const results = await Promise.all(
        clients.map((client) =>
          outcome(client.delete({ entityType, originator: withVersion ? { id, version: 1n } : { id } })),
        ),
      );
      expect(
        results.filter((r) => r === "ok"),
        JSON.stringify(results),
      ).toHaveLength(1);
      for (const result of results.filter((r) => r !== "ok")) expect([Code.Aborted, Code.NotFound]).toContain(result);
      expect(await harness.eventStoreClient().readEvents(id)).toHaveLength(2);
    }
  });

  it("an Update racing a Delete of the same version: one wins, the other is aborted or not_found", async () => {
    const entityType = freshType();
    for (let round = 0; round < 5; round++) {
      const id = freshId();
      await clients[0]!.create({ entityType, originator: { id }, payload: json({ a: 0 }) });
      const [updated, deleted] = await Promise.all([
        outcome(clients[1]!.update({ entityType, originator: { id, version: 1n }, payload: json({ a: 1 }) })),
        outcome(clients[2]!.delete({ entityType, originator: { id, version: 1n } })),
      ]);
      expect(
        [updated, deleted].filter((r) => r === "ok"),
        `${updated} ${deleted}`,
      ).toHaveLength(1);
      expect([Code.Aborted, Code.NotFound]).toContain(updated === "ok" ? deleted : updated);
      expect(await harness.eventStoreClient().readEvents(id)).toHaveLength(2);
    }
  });
});

describe("List while others write", () => {
  it("returns every stable live document exactly once, in id order, and never a deleted one", async () => {
    const entityType = freshType();
    const created = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        clients[i % clientCount]!.create({ entityType, payload: json({ i, phase: "before" }) }),
      ),
    );
    const ids = created.map((c) => c.originator!.id);
    expect(new Set(ids).size).toBe(60);
    // A third are deleted before listing starts; another third are deleted while it runs; the rest stay.
    const deletedBefore = ids.slice(0, 20);
    const deletedDuring = ids.slice(20, 40);
    const stable = ids.slice(40);
    await Promise.all(
      deletedBefore.map((id, i) => clients[i % clientCount]!.delete({ entityType, originator: { id } })),
    );

    let writing = true;
    const createdDuring: string[] = [];
    const writers = Array.from({ length: 4 }, async (_, w) => {
      const client = clients[w]!;
      let step = 0;
      while (writing) {
        step++;
        if (w === 0 && deletedDuring.length > 0) {
          await client.delete({ entityType, originator: { id: deletedDuring.pop()! } });
        } else if (w === 1) {
          createdDuring.push(
            (await client.create({ entityType, payload: json({ phase: "during", step }) })).originator!.id,
          );
        } else {
          // Update a stable document, so its version moves while List pages through it.
          const id = stable[(step * 7 + w) % stable.length]!;
          const current = await client.get({ entityType, originator: { id } });
          await outcome(
            client.update({
              entityType,
              originator: current.originator!,
              payload: json({ ...(parse(current.payload) as object), step, w }),
            }),
          );
        }
      }
    });

    const pages: ListResult[][] = [];
    try {
      let pageToken = "";
      for (let i = 0; i < 100; i++) {
        const page = await clients[5]!.list({ entityType, limit: 7, pageToken });
        pages.push(page.results);
        if (page.nextPageToken === "") break;
        pageToken = page.nextPageToken;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      writing = false;
      await Promise.all(writers);
    }

    for (const page of pages.slice(0, -1)) expect(page).toHaveLength(7);
    const listed = pages.flat();
    const listedIds = listed.map((r) => r.originator!.id);
    expect(new Set(listedIds).size, "each document at most once").toBe(listedIds.length);
    expect(listedIds, "id order").toEqual([...listedIds].sort());
    for (const id of stable) expect(listedIds, `stable document ${id}`).toContain(id);
    for (const id of deletedBefore) expect(listedIds, `deleted document ${id}`).not.toContain(id);
    const known = new Set([...ids, ...createdDuring]);
    for (const result of listed) {
      expect(known.has(result.originator!.id), result.originator!.id).toBe(true);
      expect(result.entityType).toBe(entityType);
      // Each payload is the document as of the version listed with it.
      const atVersion = await clients[6]!.get({ entityType, originator: result.originator!, deleted: true });
      expectSameJson(
        parse(result.payload),
        parse(atVersion.payload),
        `${result.originator!.id} v${result.originator!.version}`,
      );
    }

    // Once the writers stopped, a fresh List shows exactly the live documents.
    const live = [...stable, ...deletedDuring, ...createdDuring].sort();
    const after: string[] = [];
    let pageToken = "";
    for (;;) {
      const page = await clients[7]!.list({ entityType, limit: 7, pageToken, skipPayload: true });
      after.push(...page.results.map((r) => r.originator!.id));
      if (page.nextPageToken === "") break;
      pageToken = page.nextPageToken;
    }
    expect(after).toEqual(live);
  }, 60_000);
});
