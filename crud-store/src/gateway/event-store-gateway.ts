import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { type CallOptions, Code, ConnectError, createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { Http2SessionManager } from "@connectrpc/connect-node";
import { EventSchema } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import {
  type BatchGetEventsRequestSchema,
  EventStoreService,
  type GetEventsRequestSchema,
} from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "@eskit/gen/grpc/health/v1/health_pb.js";
import { lostConnectionInterceptor } from "@eskit/client/lost-connection.js";

import type {
  CallScope,
  EventStorePort,
  FollowedBatch,
  HistorySlice,
  NewEvent,
  OriginatorPage,
  StoredEvent,
  VersionRange,
} from "../store/event-store-port.js";
import { appendFailure } from "./domain-conversion.js";
import { type LeanEvents, leanMethods, sliceOfGetEvents, slicesOfBatchGetEvents } from "./lean-events.js";
import { createLeanTransport } from "./lean-transport.js";

/** The lean client's calls (see lean-events.ts). */
interface LeanClient {
  getEvents(request: MessageInitShape<typeof GetEventsRequestSchema>, options: CallOptions): Promise<LeanEvents>;
  batchGetEvents(
    request: MessageInitShape<typeof BatchGetEventsRequestSchema>,
    options: CallOptions,
  ): Promise<LeanEvents>;
}

/**
 * What the Crud Store's caller is told when the connection to the Event Store died under a call (the Event Store
 * crashed or restarted): `unavailable`, never the `aborted` that Node reports for a reset connection, which the Crud
 * Store would pass on as a version conflict.
 */
const lostEventStoreMessage =
  "the connection to the Event Store was lost before it answered: the change may or may not have been stored; " +
  "read the document again before retrying";

/** Options of {@link EventStoreGateway}. */
export interface EventStoreGatewayOptions {
  baseUrl: string;
  /** Deadline of a call whose caller set none, in ms. */
  defaultTimeoutMs: number;
  /** Sent as `Authorization: Bearer` on every call (`EVENT_STORE_TOKEN`); none when undefined. */
  token?: string | undefined;
  /** See every call, with the Event Store's own codes (e.g. to count them by method and code). */
  interceptors?: Interceptor[];
}

/**
 * The Crud Store's only storage: the Event Store, over its RPC API (Connect, binary, over one multiplexed HTTP/2
 * connection), as the core's {@link EventStorePort}: generated messages become the core's types, and `aborted` on
 * Append a VersionTakenError. Other errors stay ConnectErrors with the Event Store's codes, so `unavailable` stays
 * `unavailable`; each call carries the caller's signal and what is left of its deadline, or `defaultTimeoutMs` when
 * it set none. The one exception: when the Event Store refuses the Crud Store's own token (`unauthenticated`,
 * `permission_denied`), that is the Crud Store's misconfiguration, not its caller's, so it becomes `internal` (see
 * {@link peerRefusals}).
 */
export class EventStoreGateway implements EventStorePort {
  private readonly sessions: Http2SessionManager;
  private readonly events: Client<typeof EventStoreService>;
  /** GetEvents and BatchGetEvents with their events decoded by hand (lean-events.ts). */
  private readonly lean: LeanClient;
  private readonly health: Client<typeof Health>;
  private readonly defaultTimeoutMs: number;

  constructor(options: EventStoreGatewayOptions) {
    const { baseUrl, token } = options;
    this.defaultTimeoutMs = options.defaultTimeoutMs;
    // Room for large documents and snapshots in flight (Node's default session memory is 10 MB).
    this.sessions = new Http2SessionManager(baseUrl, { idleConnectionTimeoutMs: 60_000 }, { maxSessionMemory: 256 });
    // Unary calls without connect-es's generic client path (lean-transport.ts); LogsPoll through connect-es's own.
    const transport = createLeanTransport({
      baseUrl,
      sessionManager: this.sessions,
      // peerRefusals outermost, so the other interceptors see the Event Store's own code.
      // lostConnection innermost, so that a connection lost mid-call is `unavailable` to everything above it.
      interceptors: [
        peerRefusals,
        ...(options.interceptors ?? []),
        ...(token === undefined ? [] : [bearer(token)]),
        lostConnectionInterceptor(lostEventStoreMessage),
      ],
    });
    this.events = createClient(EventStoreService, transport);
    this.lean = createClient(
      { ...EventStoreService, methods: [leanMethods.getEvents, leanMethods.batchGetEvents] },
      transport,
    ) as unknown as LeanClient;
    this.health = createClient(Health, transport);
  }

  /** Appends all events atomically; `aborted` from the Event Store (a version already taken) is a VersionTakenError. */
  async append(events: readonly NewEvent[], scope: CallScope): Promise<void> {
    const request = {
      events: events.map((e) =>
        create(EventSchema, {
          originator: { id: e.originatorId, version: e.version },
          eventType: e.eventType,
          payload: e.payload,
          metadata: e.metadata,
        }),
      ),
    };
    try {
      await this.events.append(request, this.options(scope));
    } catch (error) {
      throw appendFailure(error);
    }
  }

  /** An originator's events from `fromVersion` to `toVersion` (0 = the latest), in version order. */
  async getEvents(
    originatorId: string,
    fromVersion: bigint,
    toVersion: bigint,
    scope: CallScope,
  ): Promise<StoredEvent[]> {
    return (await this.readRange({ originatorId, fromVersion, toVersion }, scope)).events;
  }

  /** One range in one GetEvents call, with the latest snapshot it starts from when the range asks for it. */
  async readRange(range: VersionRange, scope: CallScope): Promise<HistorySlice> {
    const request = { ...range, fromLatestSnapshot: range.fromLatestSnapshot === true };
    return sliceOfGetEvents(await this.lean.getEvents(request, this.options(scope)));
  }

  /** Many version ranges in one call, one slice per range in request order (at most 1000 ranges). */
  async batchGetEvents(ranges: readonly VersionRange[], scope: CallScope): Promise<HistorySlice[]> {
    const request = {
      ranges: ranges.map((r) => ({ ...r, fromLatestSnapshot: r.fromLatestSnapshot === true })),
    };
    return slicesOfBatchGetEvents(await this.lean.batchGetEvents(request, this.options(scope)));
  }

  /** Keeps a snapshot of an originator at a version its history has reached. */
  async saveSnapshot(originatorId: string, version: bigint, payload: string, scope: CallScope): Promise<void> {
    await this.events.saveSnapshot({ originatorId, version, payload }, this.options(scope));
  }

  /** One page of the originators of a type, in id order, skipping those whose last action is `excludeLastAction`. */
  async listOriginators(
    entityType: string,
    afterId: string,
    limit: number,
    excludeLastAction: string,
    scope: CallScope,
  ): Promise<OriginatorPage> {
    const page = await this.events.listOriginators(
      { entityType, afterId, limit, excludeLastAction },
      this.options(scope),
    );
    return {
      originators: page.originators.map((o) => ({ id: o.id, version: o.version })),
      nextAfterId: page.nextAfterId,
    };
  }

  /** The id of the latest entry of the Application Log (0 while it is empty). */
  async getHead(scope: CallScope): Promise<bigint> {
    return (await this.events.getHead({}, this.options(scope))).headId;
  }

  /** LogsPoll of one entity type (its pipeline) from `fromId`, with no deadline: it runs until `signal` aborts. */
  async *followEntityType(entityType: string, fromId: bigint, signal: AbortSignal): AsyncIterable<FollowedBatch> {
    for await (const message of this.events.logsPoll({ fromId, pipelineId: entityType }, { signal })) {
      yield {
        originatorIds: message.entries.map((e) => e.event?.originator?.id ?? ""),
      };
    }
  }

  /**
   * Whether, within 2 s, the Event Store answers its health check as SERVING and accepts the Crud Store's token. The
   * health service is open to anyone, so a read (GetHead) checks the token: a refused one makes the Crud Store
   * unhealthy rather than failing every request while its probes say all is well.
   */
  async ping(): Promise<boolean> {
    try {
      const [health] = await Promise.all([
        this.health.check({}, { timeoutMs: 2000 }),
        this.events.getHead({}, { timeoutMs: 2000 }),
      ]);
      return health.status === HealthCheckResponse_ServingStatus.SERVING;
    } catch {
      return false;
    }
  }

  /** Closes the HTTP/2 connection; calls still running fail. */
  close(): void {
    this.sessions.abort();
  }

  private options(scope: CallScope): { signal?: AbortSignal; timeoutMs: number } {
    const timeoutMs = Math.max(1, scope.timeoutMs ?? this.defaultTimeoutMs);
    return scope.signal === undefined ? { timeoutMs } : { signal: scope.signal, timeoutMs };
  }
}

/** Sets `Authorization: Bearer <token>` on every call. */
function bearer(token: string): Interceptor {
  const value = `Bearer ${token}`;
  return (next) => (req) => {
    req.header.set("authorization", value);
    return next(req);
  };
}

/**
 * The Event Store refusing the Crud Store's token is a fault of the Crud Store's configuration (`EVENT_STORE_TOKEN`
 * missing, wrong, or read-only): passed on as it is, `unauthenticated` or `permission_denied` would send the Crud
 * Store's caller checking a token of its own that is fine. So it becomes `internal`, which the Crud Store logs as a
 * server fault, with a message saying what to fix.
 */
const peerRefusals: Interceptor = (next) => async (req) => {
  try {
    return await next(req);
  } catch (error) {
    const cause = ConnectError.from(error);
    if (cause.code !== Code.Unauthenticated && cause.code !== Code.PermissionDenied) throw error;
    const what =
      cause.code === Code.Unauthenticated
        ? "refused the Crud Store's token"
        : "refused a write: the Crud Store's token may only read";
    throw new ConnectError(
      `the Event Store ${what} (check EVENT_STORE_TOKEN): ${cause.rawMessage}`,
      Code.Internal,
      undefined,
      undefined,
      cause,
    );
  }
};
