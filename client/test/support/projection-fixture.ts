/**
 * What the projection suites against a real Event Store and a real PostgreSQL share: an Event Store in this process,
 * a fresh database for the read model, a client to append to the log and read it back, and a teardown in the right
 * order (the suite's projections and processes first, then the store, the pool and the database).
 *
 * The read model's database is PostgreSQL, never PGlite: a projection holds a session advisory lock on a second
 * connection, and PGlite serves one connection inside the process. The suites skip without `DATABASE_URL`.
 */
import type { Interceptor } from "@connectrpc/connect";
import type { AppLogEntry } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import postgres, { type Sql } from "postgres";
import { afterAll, beforeAll } from "vitest";
import {
  dropDatabase,
  freshDatabaseUrl,
  startTestEventStore,
  type TestEventStore,
} from "@eskit/test-kit/event-store.js";
import { createEventStoreClient, type EventStoreClient } from "../../src/event-store-client.js";
import { createNodeTransport, type NodeTransport } from "../../src/node.js";

/** The PostgreSQL server the read models go to (`DATABASE_URL`); the suites skip without one. */
export const postgresUrl = process.env["DATABASE_URL"];
/** Ends a suite's name when it is skipped, so that the report says why. */
export const skipReason = postgresUrl ? "" : " (skipped: needs PostgreSQL, set DATABASE_URL)";

export interface ProjectionFixtureOptions {
  /** Connections of the read model's pool: as many as the suite's projections and readers use at once. */
  readonly poolSize: number;
  /** Whether the pool reads the server's array types on each connection (postgres.js's `fetch_types`; true by default). */
  readonly fetchTypes?: boolean;
  /** The Event Store's configuration, such as its access tokens. */
  readonly eventStore?: Parameters<typeof startTestEventStore>[0];
  /** The token of the fixture's transport. */
  readonly token?: string;
}

/** Anything a suite starts that must stop before the Event Store and the database go. */
export interface Stoppable {
  stop(): Promise<unknown>;
}

export interface ProjectionFixture {
  readonly store: TestEventStore;
  /** A gRPC transport to the store, for the suite's projections. */
  readonly transport: NodeTransport;
  readonly client: EventStoreClient;
  /** The read model's database: fresh for the suite, dropped after it. */
  readonly databaseUrl: string;
  /** A pool on {@link databaseUrl}. */
  readonly sql: Sql;
  /**
   * Appends `count` events `<type>.Ticked` over five originators `<type>-0` to `<type>-4` (their versions going on from
   * the suite's earlier appends), payload `{ n }` from 1; resolves to their log ids.
   */
  append(type: string, count: number): Promise<bigint[]>;
  /** The log's entries of `type` (selector `<type>.*`), read back in order. */
  logOf(type: string): Promise<AppLogEntry[]>;
  /** The position committed in projection `name`'s row of `eskit_projections`; 0 before it has one. */
  positionOf(name: string): Promise<bigint>;
  /**
   * What the suites start a projection or a rebuild of `name` with: the fixture's transport and pool, the selector
   * `<name>.*`, and lock retries, status updates and reconnects quick enough for a test.
   */
  projectionOptions(name: string): QuickProjectionOptions;
  /** Another gRPC transport to the store, with a token and interceptors of its own; closed after the suite. */
  connect(options: { token?: string; interceptors?: Interceptor[] }): NodeTransport;
  /** Has `running` stopped after the suite (a failure to stop ignored); returns it. */
  stopAfterAll<T extends Stoppable>(running: T): T;
}

/** The options of {@link ProjectionFixture.projectionOptions}. */
export interface QuickProjectionOptions {
  readonly transport: NodeTransport;
  readonly database: Sql;
  readonly name: string;
  readonly selector: string;
  readonly lockRetryMs: number;
  readonly statusIntervalMs: number;
  readonly reconnect: { readonly initialDelayMs: number; readonly maxDelayMs: number };
}

/**
 * Starts the fixture before the suite's tests (call it in the `describe` body) and tears it down after them. Its
 * members are there once the suite's `beforeAll` has run.
 */
export function useProjectionFixture(options: ProjectionFixtureOptions): ProjectionFixture {
  let store: TestEventStore | undefined;
  let transport: NodeTransport | undefined;
  let client: EventStoreClient | undefined;
  let databaseUrl: string | undefined;
  let sql: Sql | undefined;
  const running: Stoppable[] = [];
  const transports: NodeTransport[] = [];
  const versions = new Map<string, bigint>();

  beforeAll(async () => {
    store = await startTestEventStore(options.eventStore);
    transport = createNodeTransport({ baseUrl: store.url, protocol: "grpc", token: options.token });
    client = createEventStoreClient(transport);
    databaseUrl = await freshDatabaseUrl(postgresUrl);
    sql = postgres(databaseUrl, {
      max: options.poolSize,
      ...(options.fetchTypes === false ? { fetch_types: false } : {}),
      onnotice: () => {},
    });
  });
  afterAll(async () => {
    await Promise.all(running.map((r) => r.stop().catch(() => {})));
    for (const t of transports) t.close();
    transport?.close();
    await store?.stop();
    await sql?.end({ timeout: 5 });
    if (databaseUrl !== undefined) await dropDatabase(databaseUrl);
  });

  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("the projection fixture is used before its beforeAll ran");
    return value;
  };
  return {
    get store() {
      return ready(store);
    },
    get transport() {
      return ready(transport);
    },
    get client() {
      return ready(client);
    },
    get databaseUrl() {
      return ready(databaseUrl);
    },
    get sql() {
      return ready(sql);
    },
    async append(type, count) {
      const events = Array.from({ length: count }, (_, i) => {
        const originatorId = `${type}-${i % 5}`;
        const version = (versions.get(originatorId) ?? 0n) + 1n;
        versions.set(originatorId, version);
        return { originatorId, version, eventType: `${type}.Ticked`, payload: { n: i + 1 } };
      });
      return ready(client).appendEvents(events);
    },
    async logOf(type) {
      const entries: AppLogEntry[] = [];
      for await (const page of ready(client).pageLogs({ selector: `${type}.*`, size: 1000 })) {
        entries.push(...page.entries);
      }
      return entries;
    },
    async positionOf(name) {
      const [row] = await ready(sql)<Array<{ position: string }>>`
        select position::text as position from eskit_projections where name = ${name}`;
      return BigInt(row?.position ?? "0");
    },
    projectionOptions(name) {
      return {
        transport: ready(transport),
        database: ready(sql),
        name,
        selector: `${name}.*`,
        lockRetryMs: 50,
        statusIntervalMs: 100,
        reconnect: { initialDelayMs: 10, maxDelayMs: 200 },
      };
    },
    connect({ token, interceptors }) {
      const t = createNodeTransport({ baseUrl: ready(store).url, protocol: "grpc", token, interceptors });
      transports.push(t);
      return t;
    },
    stopAfterAll(r) {
      running.push(r);
      return r;
    },
  };
}
