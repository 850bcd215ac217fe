import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createRouterTransport, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import {
  AppLogEntrySchema,
  EventSchema,
  OriginatorSchema,
  type AppLogEntry,
} from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import {
  EventStoreService,
  LogsResponseSchema,
  type AppendRequest,
  type GetEventsRequest,
  type LogsPollRequest,
  type LogsRequest,
} from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import { describe, expect, it } from "vitest";
import { createEventStoreClient } from "./event-store-client.js";

function entry(id: bigint, eventType = "User.Created"): AppLogEntry {
  return create(AppLogEntrySchema, {
    id,
    event: create(EventSchema, { eventType, originator: create(OriginatorSchema, { id: `o-${id}`, version: 1n }) }),
  });
}

/** Resolves when the server-side handler sees its call end (client cancel included). */
/** A client whose transport is an in-memory router serving `impl` as the EventStoreService. */
function clientServing(impl: Partial<ServiceImpl<typeof EventStoreService>>) {
  return createEventStoreClient(createRouterTransport(({ service }) => service(EventStoreService, impl)));
}

function whenAborted(ctx: HandlerContext): Promise<void> {
  return new Promise((resolve) => {
    if (ctx.signal.aborted) resolve();
    ctx.signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

describe("appendEvents", () => {
  it("sends converted events in order and resolves to the log ids as bigints", async () => {
    let received: AppendRequest | undefined;
    const client = clientServing({
      append(req) {
        received = req;
        return { logIds: [18446744073709551615n, 7n] };
      },
    });
    const ids = await client.appendEvents([
      { originatorId: "a", version: 1n, eventType: "User.Created", payload: { n: 1 } },
      { originatorId: "a", version: 2n, eventType: "User.Renamed", payload: '{"name":"B"}' },
    ]);
    expect(ids).toEqual([18446744073709551615n, 7n]);
    expect(received?.events.map((e) => [e.originator?.version, e.eventType, e.payload])).toEqual([
      [1n, "User.Created", '{"n":1}'],
      [2n, "User.Renamed", '{"name":"B"}'],
    ]);
  });

  it("passes the server's error through unchanged", async () => {
    const client = clientServing({
      append() {
        throw new ConnectError("version 1 of a exists", Code.Aborted);
      },
    });
    await expect(client.appendEvents([{ originatorId: "a", version: 1n, eventType: "T.A" }])).rejects.toMatchObject({
      code: Code.Aborted,
    });
  });
});

describe("readEvents", () => {
  it("asks for the given version range and returns the events", async () => {
    let received: GetEventsRequest | undefined;
    const client = clientServing({
      getEvents(req) {
        received = req;
        return { events: [{ eventType: "User.Created", originator: { id: req.originatorId, version: 2n } }] };
      },
    });
    const events = await client.readEvents("user-1", { fromVersion: 2n, toVersion: 3n });
    expect(received?.originatorId).toBe("user-1");
    expect([received?.fromVersion, received?.toVersion]).toEqual([2n, 3n]);
    expect(events.map((e) => e.originator?.version)).toEqual([2n]);
  });

  it("reads every version when no range is given", async () => {
    let received: GetEventsRequest | undefined;
    const client = clientServing({
      getEvents(req) {
        received = req;
        return {};
      },
    });
    expect(await client.readEvents("user-1")).toEqual([]);
    expect([received?.fromVersion, received?.toVersion]).toEqual([0n, 0n]);
  });
});

describe("pageLogs", () => {
  it("follows next_from_id, skips pages the filter emptied, and stops when the cursor stops moving", async () => {
    const requests: LogsRequest[] = [];
    const pages = new Map<bigint, [bigint[], bigint]>([
      [5n, [[5n, 6n], 7n]],
      [7n, [[], 40n]],
      [40n, [[41n], 42n]],
      [42n, [[], 42n]],
    ]);
    const client = clientServing({
      logs(req) {
        requests.push(req);
        const [ids, next] = pages.get(req.fromId) ?? [[], req.fromId];
        return create(LogsResponseSchema, { entries: ids.map((id) => entry(id)), nextFromId: next });
      },
    });
    const seen: bigint[][] = [];
    for await (const page of client.pageLogs({ fromId: 5n, size: 2, selector: "User.*", pipelineId: "User" })) {
      seen.push(page.entries.map((e) => e.id));
    }
    expect(seen).toEqual([[5n, 6n], [41n]]);
    expect(requests.map((r) => r.fromId)).toEqual([5n, 7n, 40n, 42n]);
    expect(requests.every((r) => r.size === 2 && r.selector === "User.*" && r.pipelineId === "User")).toBe(true);
  });

  it("yields nothing for an empty log", async () => {
    const client = clientServing({ logs: () => ({ nextFromId: 0n }) });
    const pages = [];
    for await (const page of client.pageLogs()) pages.push(page);
    expect(pages).toEqual([]);
  });
});

describe("tail", () => {
  it("yields entries one by one across response messages, with the request's filters", async () => {
    let received: LogsPollRequest | undefined;
    const client = clientServing({
      async *logsPoll(req) {
        received = req;
        yield { entries: [entry(3n), entry(4n)] };
        yield { entries: [] };
        yield { entries: [entry(9n)] };
      },
    });
    const ids: bigint[] = [];
    for await (const e of client.tail({ fromId: 3n, selector: "*.Created", pipelineId: "User" })) ids.push(e.id);
    expect(ids).toEqual([3n, 4n, 9n]);
    expect([received?.fromId, received?.selector, received?.pipelineId]).toEqual([3n, "*.Created", "User"]);
  });

  it("cancels the call on the server when the loop breaks", async () => {
    let serverSawEnd: Promise<void> | undefined;
    const client = clientServing({
      async *logsPoll(_req, ctx) {
        serverSawEnd = whenAborted(ctx);
        yield { entries: [entry(1n), entry(2n)] };
        await serverSawEnd;
      },
    });
    for await (const e of client.tail()) {
      if (e.id === 1n) break;
    }
    await expect(serverSawEnd).resolves.toBeUndefined();
  });

  it("ends quietly and cancels the call when the caller's signal aborts", async () => {
    let serverSawEnd: Promise<void> | undefined;
    const client = clientServing({
      async *logsPoll(_req, ctx) {
        serverSawEnd = whenAborted(ctx);
        yield { entries: [entry(1n)] };
        await serverSawEnd;
      },
    });
    const controller = new AbortController();
    const ids: bigint[] = [];
    for await (const e of client.tail({ signal: controller.signal })) {
      ids.push(e.id);
      setTimeout(() => controller.abort(), 10);
    }
    expect(ids).toEqual([1n]);
    await expect(serverSawEnd).resolves.toBeUndefined();
  });

  it("does not call the server at all when the signal is already aborted", async () => {
    let calls = 0;
    const client = clientServing({
      async *logsPoll() {
        calls++;
        yield { entries: [entry(1n)] };
      },
    });
    const ids: bigint[] = [];
    for await (const e of client.tail({ signal: AbortSignal.abort() })) ids.push(e.id);
    expect(ids).toEqual([]);
    expect(calls).toBe(0);
  });

  it("rethrows a server error that the caller did not cause", async () => {
    const client = clientServing({
      async *logsPoll() {
        yield { entries: [entry(1n)] };
        throw new ConnectError("shutting down", Code.Unavailable);
      },
    });
    const ids: bigint[] = [];
    await expect(async () => {
      for await (const e of client.tail({ signal: new AbortController().signal })) ids.push(e.id);
    }).rejects.toMatchObject({ code: Code.Unavailable });
    expect(ids).toEqual([1n]);
  });
});
