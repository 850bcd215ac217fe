/**
 * What the bridge's tests share: unique stream names, the bridge as a process, an appender that records the log ids
 * it was given, and a reader of the whole stream.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import type { EventStoreClient } from "@eskit/client";
import {
  AppLogEntrySchema,
  EventSchema,
  OriginatorSchema,
  type AppLogEntry,
} from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import { spawnService, type SpawnedService } from "@eskit/test-kit/service-process.js";
import { natsUrl } from "@eskit/test-kit/system-tools.js";
import { JetStreamApiCodes, JetStreamApiError, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { headerNames } from "../src/encoding.js";

export { natsUrl };

/** A stream and subject prefix no other test uses; `remove()` deletes the stream (and its consumers). */
export interface TestStream {
  readonly stream: string;
  readonly prefix: string;
  remove(nc: NatsConnection): Promise<void>;
}

export function uniqueStream(): TestStream {
  const tag = randomBytes(5).toString("hex");
  const stream = `ESKIT_TEST_${tag}`;
  return {
    stream,
    prefix: `eskit.test.${tag}`,
    remove: async (nc) => {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.delete(stream).catch(() => false);
    },
  };
}

export function connectTestNats(): Promise<NatsConnection> {
  return connect({ servers: natsUrl });
}

/** One message of the stream, as the tests check it. */
export interface StreamMessage {
  readonly seq: number;
  readonly subject: string;
  readonly logId: bigint;
  readonly msgId: string | undefined;
  readonly eventType: string | undefined;
  readonly contentType: string | undefined;
  readonly data: Uint8Array;
}

/** Every message of the stream, in stream order. */
export async function readStream(nc: NatsConnection, stream: string): Promise<StreamMessage[]> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(stream).catch((error: unknown) => {
    // Not created yet: the bridge creates it once NATS and the Event Store answered.
    if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound) return undefined;
    throw error;
  });
  if (info === undefined) return [];
  const { state } = info;
  const out: StreamMessage[] = [];
  for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq });
    if (m === null) continue;
    out.push({
      seq: m.seq,
      subject: m.subject,
      logId: BigInt(m.header.get(headerNames.logId)),
      msgId: m.header.get("Nats-Msg-Id"),
      eventType: m.header.get(headerNames.eventType),
      contentType: m.header.get(headerNames.contentType),
      data: m.data,
    });
  }
  return out;
}

/** How many messages the stream holds (0 before the bridge created it): cheaper than reading them all. */
export async function streamLength(nc: NatsConnection, stream: string): Promise<number> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(stream).catch((error: unknown) => {
    if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound) return undefined;
    throw error;
  });
  return info?.state.messages ?? 0;
}

/** Waits until `check` holds (polling), or fails with `describe()` after `timeoutMs`. */
export async function waitFor(
  check: () => Promise<boolean>,
  timeoutMs: number,
  describe: () => Promise<string>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out after ${timeoutMs} ms: ${await describe()}`);
}

/** Waits until the stream holds the entry `lastId` (or a later one), then returns all its messages. */
export async function waitForStream(
  nc: NatsConnection,
  stream: string,
  lastId: bigint,
  timeoutMs = 60_000,
): Promise<StreamMessage[]> {
  let last: StreamMessage[] = [];
  await waitFor(
    async () => {
      last = await readStream(nc, stream);
      return (last.at(-1)?.logId ?? 0n) >= lastId;
    },
    timeoutMs,
    async () => `the stream's last log id is ${last.at(-1)?.logId ?? "none"}, waiting for ${lastId}`,
  );
  return last;
}

const eventTypes = [
  "Pet.Created",
  "Pet.Updated",
  "Pet.Deleted",
  "acme.v1.Order.Placed",
  "acme.v1.Order.Shipped",
  "Log.Written",
];

/** Appends events in batches and keeps the log ids the store answered, in log order. */
export class Appender {
  private originator = 0;

  /** `ids` and `types` may be shared by several appenders (the whole log of a test file). */
  constructor(
    private readonly client: EventStoreClient,
    readonly ids: bigint[] = [],
    readonly types = new Map<bigint, string>(),
  ) {}

  get lastId(): bigint {
    return this.ids.reduce((a, b) => (a > b ? a : b), 0n);
  }

  /** Appends `count` events in one request, to a fresh originator, cycling through a few event types. */
  async append(count: number): Promise<void> {
    const originatorId = `o-${++this.originator}-${randomUUID()}`;
    const events = Array.from({ length: count }, (_, i) => ({
      originatorId,
      version: BigInt(i + 1),
      eventType: eventTypes[(this.ids.length + i) % eventTypes.length]!,
      payload: { n: this.ids.length + i },
    }));
    const ids = await this.client.appendEvents(events, { retries: 5 });
    ids.forEach((id, i) => {
      this.ids.push(id);
      this.types.set(id, events[i]!.eventType);
    });
  }
}

/**
 * Log entries `from`..`from + n - 1` made up without an Event Store, for tests that drive the publisher alone: log
 * ids with gaps (3k + 1), as a stream's entries need not be numbered from 1 without holes.
 */
export const syntheticEntries = (from: number, n: number): AppLogEntry[] =>
  Array.from({ length: n }, (_, i) =>
    create(AppLogEntrySchema, {
      id: BigInt(3 * (from + i) + 1),
      event: create(EventSchema, {
        originator: create(OriginatorSchema, { id: `o-${from + i}`, version: 1n }),
        eventType: ["Pet.Created", "acme.v1.Order.Placed"][(from + i) % 2]!,
        payload: `{"n":${from + i}}`,
      }),
    }),
  );

/** The bridge as a process (`node --import tsx jetstream-bridge/src/main.ts`), healthy once NATS and the log are. */
export function spawnBridge(env: Record<string, string>): Promise<SpawnedService> {
  return spawnService({
    entry: "jetstream-bridge/src/main.ts",
    env: { ESKIT_LAG_INTERVAL_MS: "500", JETSTREAM_ACK_TIMEOUT_MS: "2000", ...env },
  });
}

/** Asserts the stream is exactly `ids`, once each and in order, and says what differs first when not. */
export function streamProblem(messages: readonly StreamMessage[], ids: readonly bigint[]): string | undefined {
  const got = messages.map((m) => m.logId);
  ids = [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (let i = 0; i < Math.max(got.length, ids.length); i++) {
    if (got[i] !== ids[i])
      return `at position ${i}: stream has ${got[i]}, log has ${ids[i]} (${got.length} vs ${ids.length} entries)`;
  }
  return undefined;
}
