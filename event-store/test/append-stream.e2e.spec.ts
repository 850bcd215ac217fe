import { randomUUID } from "node:crypto";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  AppendStreamRequestSchema,
  type AppLogEntry,
  createEventStoreClient,
  type EventStoreClient,
} from "@eskit/client";
import { createNodeTransport, type NodeProtocol } from "@eskit/client/node.js";
import { sampleValue } from "@eskit/test-kit/exposition.js";
import { scrapeUntil } from "@eskit/test-kit/metrics.js";
import { proxiedDatabase, type ProxiedDatabase } from "@eskit/test-kit/proxied-database.js";
import { envelope, rawCall } from "@eskit/test-kit/raw-rpc.js";
import { rejection } from "@eskit/test-kit/rejection.js";
import { testSize } from "@eskit/test-kit/test-sizes.js";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type TestEventStore, startTestEventStore } from "./harness.js";

// AppendStream through a real server on a real port, over every protocol that can carry a bidi stream: Connect (JSON
// here), gRPC and gRPC-Web, each over HTTP/2 as a Node client speaks it. Browsers cannot send a bidi stream at all;
// over HTTP/1.1 the server refuses one (HTTP 505, see the last test). Tests share one store, so each uses its own
// originators; the store's limits are small, to reach them cheaply.

const full = `full-${randomUUID()}`;
const read = `read-${randomUUID()}`;
const limits = { maxEventBytes: 2048, maxRequestBytes: 4096, maxEventsPerRequest: 50 };
/** What the server reads of one message at most: the Event Store's readMaxBytes for these limits (app.ts). */
const readMaxBytes = limits.maxRequestBytes * 2 + 1024 * 1024;

let store: TestEventStore;
beforeAll(async () => {
  store = await startTestEventStore({ ...limits, authTokens: [full], readTokens: [read] });
});
afterAll(async () => {
  await store?.stop();
});

/** An event as the requests carry it (a plain init of the Event message). */
interface EventInit {
  originator: { id: string; version: bigint };
  eventType: string;
  payload?: string;
  eventId?: string;
  metadata?: Record<string, string>;
}
type Batch = EventInit[];

const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 13)}`;
const event = (id: string, version: number, eventType = "Order.Placed", extra: Partial<EventInit> = {}): EventInit => ({
  originator: { id, version: BigInt(version) },
  eventType,
  payload: JSON.stringify({ id, version }),
  ...extra,
});

const streamProtocols = ["connect", "grpc", "grpc-web"] as const satisfies readonly NodeProtocol[];

/** A client over HTTP/2 (Connect as JSON, the others binary), with a token; `close()` drops its session. */
function clientOver(protocol: NodeProtocol, token = full): EventStoreClient & { close(): void } {
  const transport = createNodeTransport({
    baseUrl: store.url,
    protocol,
    httpVersion: "2",
    binary: protocol !== "connect",
    token,
  });
  return Object.assign(createEventStoreClient(transport), { close: () => transport.close() });
}

/** What an AppendStream answered: each request's log ids, in order, then the error that ended it (if one did). */
interface Answered {
  readonly answers: bigint[][];
  readonly error: ConnectError | undefined;
}

async function appendStream(
  client: EventStoreClient,
  batches: AsyncIterable<Batch> | Iterable<Batch>,
  options: { signal?: AbortSignal; timeoutMs?: number; onAnswer?: (answered: number) => void } = {},
): Promise<Answered> {
  async function* requests() {
    for await (const events of batches) yield { events };
  }
  const answers: bigint[][] = [];
  try {
    for await (const response of client.appendStream(requests(), options)) {
      answers.push(response.logIds);
      options.onAnswer?.(answers.length);
    }
    return { answers, error: undefined };
  } catch (error) {
    return { answers, error: ConnectError.from(error) };
  }
}

/** Every entry of the log after `head`. */
async function logAfter(client: EventStoreClient, head: bigint): Promise<AppLogEntry[]> {
  const entries: AppLogEntry[] = [];
  for await (const page of client.pageLogs({ fromId: head + 1n, size: 1000 })) entries.push(...page.entries);
  return entries;
}

/** An entry as the batches name it: originator, version, event type. */
const named = (e: { originator?: { id: string; version: bigint }; eventType: string }) =>
  `${e.originator?.id}@${e.originator?.version} ${e.eventType}`;
const namedInit = (e: EventInit) => `${e.originator.id}@${e.originator.version} ${e.eventType}`;

describe.each(streamProtocols)("AppendStream over %s (HTTP/2)", (protocol) => {
  let c: ReturnType<typeof clientOver>;
  beforeAll(() => {
    c = clientOver(protocol);
  });
  afterAll(() => c.close());

  it("writes each request as one Append in stream order and answers each with its log ids, in order", async () => {
    const ids = [unique("a"), unique("b"), unique("c")];
    // Three originators, their versions spread over the requests, so that only the stream order makes them valid.
    const batches: Batch[] = Array.from({ length: 12 }, (_, k) =>
      ids.map((id, j) => event(id, k + 1, j === 0 && k === 0 ? "Order.Created" : "Order.Placed")),
    );
    const head = (await c.getHead({})).headId;
    const { answers, error } = await appendStream(c, batches);
    expect(error).toBeUndefined();
    expect(answers.map((a) => a.length)).toEqual(batches.map((b) => b.length));
    const logIds = answers.flat();
    expect(logIds.every((id, i) => i === 0 || id > logIds[i - 1]!)).toBe(true);
    const entries = (await logAfter(c, head)).filter((e) => ids.includes(e.event!.originator!.id));
    expect(entries.map((e) => e.id)).toEqual(logIds);
    expect(entries.map((e) => named(e.event!))).toEqual(batches.flat().map(namedInit));
  });

  it("ends a stream without requests with no answer and no error", async () => {
    expect(await appendStream(c, [])).toEqual({ answers: [], error: undefined });
  });

  it("stores exactly the requests before the first failure, in order, and ends with the code Append gives it", async () => {
    // Each step is a request the serial model knows the fate of: it fits the versions so far, or it breaks one rule.
    const step = fc.constantFrom("ok", "ok", "ok", "conflict", "gap", "badType", "tooBig", "empty", "duplicateId");
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 8 }), fc.nat(), async (steps, seed) => {
        const seedId = unique("seed");
        await c.append({ events: [event(seedId, 1, "Order.Created")] });
        const ids = [unique("p"), unique("q")];
        const versions = new Map(ids.map((id) => [id, 0]));
        const takenEventId = randomUUID();
        await c.append({ events: [event(unique("t"), 1, "Order.Created", { eventId: takenEventId })] });
        const batches: Batch[] = [];
        const expected: Array<Code | undefined> = [];
        steps.forEach((kind, k) => {
          const id = ids[(seed + k) % ids.length]!;
          const next = () => {
            const v = versions.get(id)! + 1;
            versions.set(id, v);
            return v;
          };
          switch (kind) {
            case "ok":
              batches.push([event(id, next()), event(id, next())]);
              expected.push(undefined);
              return;
            case "conflict":
              batches.push([event(seedId, 1)]);
              expected.push(Code.Aborted);
              return;
            case "gap":
              batches.push([event(id, versions.get(id)! + 2)]);
              expected.push(Code.FailedPrecondition);
              return;
            case "badType":
              batches.push([event(id, versions.get(id)! + 1, "NoDot")]);
              expected.push(Code.InvalidArgument);
              return;
            case "tooBig":
              batches.push([event(id, versions.get(id)! + 1, "Order.Placed", { payload: `"${"x".repeat(3000)}"` })]);
              expected.push(Code.ResourceExhausted);
              return;
            case "empty":
              batches.push([]);
              expected.push(Code.InvalidArgument);
              return;
            case "duplicateId":
              batches.push([event(id, versions.get(id)! + 1, "Order.Placed", { eventId: takenEventId })]);
              expected.push(Code.AlreadyExists);
              return;
          }
        });
        const failsAt = expected.findIndex((code) => code !== undefined);
        const stored = failsAt < 0 ? batches : batches.slice(0, failsAt);
        const head = (await c.getHead({})).headId;
        const { answers, error } = await appendStream(c, batches);
        expect(answers.map((a) => a.length)).toEqual(stored.map((b) => b.length));
        expect(error?.code).toBe(failsAt < 0 ? undefined : expected[failsAt]);
        const entries = (await logAfter(c, head)).filter((e) => ids.includes(e.event!.originator!.id));
        expect(entries.map((e) => named(e.event!))).toEqual(stored.flat().map(namedInit));
        expect(entries.map((e) => e.id)).toEqual(answers.flat());
        if (failsAt >= 0) {
          // The same request alone, as an Append, after the ones before it: the same code and message.
          expect(await rejection(c.append({ events: batches[failsAt]! }))).toEqual({
            code: error!.code,
            message: error!.rawMessage,
          });
        }
      }),
      { numRuns: testSize(40, 6) },
    );
  });

  it("bounds each request as one Append, not the stream: a request over a limit ends it after the ones before", async () => {
    const id = unique("limit");
    const pad = (n: number) => ({ metadata: { pad: "m".repeat(n) } });
    // 80 requests of about 15 KB: more than the server reads of one message (readMaxBytes), in all.
    const many: Batch[] = Array.from({ length: 80 }, (_, k) =>
      Array.from({ length: 10 }, (_, j) => event(id, k * 10 + j + 1, "Order.Placed", pad(1500))),
    );
    expect(many.flat().length * 1500).toBeGreaterThan(readMaxBytes);
    const whole = await appendStream(c, many);
    expect(whole.error).toBeUndefined();
    expect(whole.answers).toHaveLength(80);

    const other = unique("limit");
    const overPayloads = [
      [event(other, 1)],
      // Two payloads of 2000 bytes and one more: over the 4096 bytes of payloads a request may carry.
      [2, 3, 4].map((v) => event(other, v, "Order.Placed", { payload: `"${"p".repeat(2000)}"` })),
      [event(other, 2)],
    ];
    const payloads = await appendStream(c, overPayloads);
    expect(payloads.answers).toHaveLength(1);
    expect(payloads.error?.code).toBe(Code.ResourceExhausted);
    expect(payloads.error?.rawMessage).toContain("the payloads of this request exceed 4096 bytes");

    const overMessage = [
      [event(other, 2)],
      [event(other, 3, "Order.Placed", pad(readMaxBytes + 10))],
      [event(other, 3)],
    ];
    const message = await appendStream(c, overMessage);
    expect(message.answers).toHaveLength(1);
    expect(message.error?.code).toBe(Code.ResourceExhausted);
    expect((await c.getEvents({ originatorId: other })).events.map((e) => e.originator?.version)).toEqual([1n, 2n]);
  });

  it("keeps the stream's order in the log while other clients append at the same time", async () => {
    const streamed = [unique("s1"), unique("s2")];
    const batches: Batch[] = Array.from({ length: testSize(60, 20) }, (_, k) =>
      streamed
        .map((id) => event(id, k * 3 + 1))
        .flatMap((first) => {
          const id = first.originator.id;
          return [first, event(id, k * 3 + 2), event(id, k * 3 + 3)];
        }),
    );
    const head = (await c.getHead({})).headId;
    let done = false;
    let writing = 0;
    const others = Array.from({ length: 4 }, async (_, w) => {
      const writer = clientOver(w % 2 === 0 ? "grpc" : "connect");
      const id = unique(`w${w}`);
      try {
        for (let v = 1; !done; v++) {
          await writer.append({ events: [event(id, v)] });
          if (v === 1) writing++;
        }
      } finally {
        writer.close();
      }
    });
    // The stream starts once every other writer is under way.
    await vi.waitFor(() => expect(writing).toBe(4), { timeout: 20_000 });
    const { answers, error } = await appendStream(c, batches);
    done = true;
    await Promise.all(others);
    expect(error).toBeUndefined();
    const all = await logAfter(c, head);
    const ours = all.filter((e) => streamed.includes(e.event!.originator!.id));
    expect(ours.map((e) => named(e.event!))).toEqual(batches.flat().map(namedInit));
    expect(ours.map((e) => e.id)).toEqual(answers.flat());
    // The others wrote between the stream's first and last events: the order held under contention.
    const between = all.filter((e) => e.id > ours[0]!.id && e.id < ours.at(-1)!.id && !ours.includes(e));
    expect(between.length).toBeGreaterThan(0);
  });
});

describe("AppendStream's end", () => {
  let c: ReturnType<typeof clientOver>;
  beforeAll(() => {
    c = clientOver("grpc");
  });
  afterAll(() => c.close());

  const streamsOpen = (samples: Parameters<typeof sampleValue>[0]) =>
    sampleValue(samples, "eskit_rpc_streams_open", {
      service: "eskit.eventstore.v1.EventStoreService",
      method: "AppendStream",
    }) ?? 0;

  /** Batches of `id`, one every `gapMs`, counting those handed to the call. */
  function paced(id: string, gapMs: number, counter: { sent: number }): AsyncIterable<Batch> {
    return (async function* () {
      for (let k = 0; k < 10_000; k++) {
        if (k > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
        counter.sent++;
        yield [event(id, 2 * k + 1), event(id, 2 * k + 2)];
      }
    })();
  }

  /**
   * Once the server's handler has ended: the originator holds a prefix of the batches, every acknowledged one and
   * none that was not sent, and nothing more is written afterwards.
   */
  async function expectPrefixThenNothing(id: string, acknowledged: number, sent: number): Promise<void> {
    const ended = await scrapeUntil(store.url, (samples) => streamsOpen(samples) === 0);
    expect(streamsOpen(ended.samples)).toBe(0);
    const versions = async () => (await c.getEvents({ originatorId: id })).events.map((e) => e.originator!.version);
    const stored = await versions();
    expect(stored).toEqual(stored.map((_, i) => BigInt(i + 1)));
    expect(stored.length % 2).toBe(0);
    expect(stored.length / 2).toBeGreaterThanOrEqual(acknowledged);
    expect(stored.length / 2).toBeLessThanOrEqual(sent);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await versions()).toEqual(stored);
  }

  it("on cancel: what was acknowledged is stored, and nothing is written after the call ended", async () => {
    const id = unique("cancel");
    const counter = { sent: 0 };
    const stop = new AbortController();
    const { answers, error } = await appendStream(c, paced(id, 5, counter), {
      signal: stop.signal,
      onAnswer: (answered) => {
        if (answered === 5) stop.abort();
      },
    });
    expect(error?.code).toBe(Code.Canceled);
    // An answer already on its way when the call was canceled may still be read.
    expect(answers.length).toBeGreaterThanOrEqual(5);
    await expectPrefixThenNothing(id, answers.length, counter.sent);
  });

  it("at its deadline: the stream ends with deadline_exceeded, acknowledged requests stored, nothing after", async () => {
    const id = unique("deadline");
    const counter = { sent: 0 };
    const { answers, error } = await appendStream(c, paced(id, 50, counter), { timeoutMs: 2000 });
    expect(error?.code).toBe(Code.DeadlineExceeded);
    expect(answers.length).toBeGreaterThan(0);
    await expectPrefixThenNothing(id, answers.length, counter.sent);
  });
});

describe("AppendStream and access control", () => {
  it.each(streamProtocols)("refuses a read-only token with permission_denied over %s, writing nothing", async (p) => {
    const reader = clientOver(p, read);
    try {
      const id = unique("ro");
      const { answers, error } = await appendStream(reader, [[event(id, 1, "Order.Created")], [event(id, 2)]]);
      expect(answers).toEqual([]);
      expect(error?.code).toBe(Code.PermissionDenied);
      expect((await reader.getEvents({ originatorId: id })).events).toEqual([]);
    } finally {
      reader.close();
    }
  });
});

describe("AppendStream with a malformed message", () => {
  // Bytes no typed client sends: a valid request, then one that is not protobuf (a string field cut short), each in
  // its envelope, over HTTP/2 in each binary protocol.
  const valid = (id: string) =>
    toBinary(AppendStreamRequestSchema, create(AppendStreamRequestSchema, { events: [event(id, 1, "Order.Created")] }));
  const broken = Uint8Array.from([0x0a, 0x05, 0x61]);

  it.each(["grpc", "grpc-web", "connect-proto"] as const)(
    "answers the request before it, then invalid_argument over %s (not internal), writing nothing after",
    async (protocol) => {
      const id = unique("raw");
      const after = unique("raw");
      const body = Buffer.concat([envelope(0, valid(id)), envelope(0, broken), envelope(0, valid(after))]);
      const answer = await rawCall(store.url, "/eskit.eventstore.v1.EventStoreService/AppendStream", {
        protocol,
        body,
        stream: true,
        http2: true,
        headers: { authorization: `Bearer ${full}` },
      });
      expect(answer).toMatchObject({ code: "invalid_argument", messages: 1 });
      expect(answer.message).toMatch(/^the request is not a valid eskit\.eventstore\.v1\.AppendStreamRequest: /u);
      const c = clientOver("grpc");
      try {
        expect((await c.getEvents({ originatorId: id })).events).toHaveLength(1);
        expect((await c.getEvents({ originatorId: after })).events).toEqual([]);
      } finally {
        c.close();
      }
    },
  );
});

describe("AppendStream over HTTP/1.1", () => {
  // What a browser's gRPC-Web or Connect client would meet, if fetch could send a request stream at all.
  it.each(["connect", "grpc-web"] as const)(
    "is refused over %s (HTTP 505: it needs HTTP/2), writing nothing",
    async (p) => {
      const transport = createNodeTransport({ baseUrl: store.url, protocol: p, httpVersion: "1.1", token: full });
      const client = createEventStoreClient(transport);
      try {
        const id = unique("h1");
        const { answers, error } = await appendStream(client, [[event(id, 1, "Order.Created")]]);
        expect(answers).toEqual([]);
        expect(error?.code).toBe(Code.Unknown);
        expect(error?.rawMessage).toContain("505");
        expect((await client.getEvents({ originatorId: id })).events).toEqual([]);
      } finally {
        transport.close();
      }
    },
  );
});

// The stall is a lock held in PostgreSQL (see proxied-database.ts); PGlite runs one statement at a time in-process.
const postgresUrl = process.env["DATABASE_URL"];
const needsPostgres = postgresUrl ? "" : " (skipped: needs PostgreSQL, set DATABASE_URL)";

describe.skipIf(!postgresUrl)(`AppendStream's request timeout, with a write slower than it${needsPostgres}`, () => {
  // Each request must arrive within 300 ms of the server waiting for it; the first write takes 1 s.
  const requestTimeoutMs = 300;
  let db: ProxiedDatabase;
  let slow: TestEventStore;
  let c: EventStoreClient & { close(): void };
  beforeAll(async () => {
    db = await proxiedDatabase(postgresUrl!);
    slow = await startTestEventStore({
      databaseUrl: db.directUrl,
      dataDir: "",
      requestBodyTimeoutMs: requestTimeoutMs,
    });
    const transport = createNodeTransport({ baseUrl: slow.url, protocol: "grpc", httpVersion: "2", binary: true });
    c = Object.assign(createEventStoreClient(transport), { close: () => transport.close() });
  });
  afterAll(async () => {
    c?.close();
    await slow?.stop();
    await db?.remove();
  });

  /** Sends each batch only once the answer to the one before has come (a window of one), then idles `idleMs`. */
  function oneAtATime(batches: Batch[], answered: { count: number }, idleMs = 0): AsyncIterable<Batch> {
    return (async function* () {
      for (const [k, batch] of batches.entries()) {
        while (answered.count < k) await new Promise((resolve) => setTimeout(resolve, 5));
        yield batch;
      }
      while (answered.count < batches.length) await new Promise((resolve) => setTimeout(resolve, 5));
      await new Promise((resolve) => setTimeout(resolve, idleMs));
    })();
  }

  it("does not time a client that waits for its answer: a write longer than the timeout ends well", async () => {
    const id = unique("slow-write");
    const answered = { count: 0 };
    const { released } = await db.stallAppends(1_000);
    const batches = [[event(id, 1)], [event(id, 2)], [event(id, 3)]];
    const { answers, error } = await appendStream(c, oneAtATime(batches, answered), {
      onAnswer: (n) => (answered.count = n),
    });
    await released;
    expect(error).toBeUndefined();
    expect(answers).toHaveLength(3);
    expect((await c.getEvents({ originatorId: id })).events.map((e) => e.originator?.version)).toEqual([1n, 2n, 3n]);
  });

  it("still times the client once it has its answer: idle past the timeout, the stream ends deadline_exceeded", async () => {
    const id = unique("idle-client");
    const answered = { count: 0 };
    const { answers, error } = await appendStream(c, oneAtATime([[event(id, 1)]], answered, 3 * requestTimeoutMs), {
      onAnswer: (n) => (answered.count = n),
    });
    expect(answers).toHaveLength(1);
    expect(error?.code).toBe(Code.DeadlineExceeded);
    expect(error?.rawMessage).toBe(`a request message did not arrive within ${requestTimeoutMs} ms`);
  });
});
