import { create } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  AppendResponseSchema,
  EventStoreService,
  BatchGetEventsResponseSchema,
  GetEventsResponseSchema,
  GetHeadResponseSchema,
  LogsPollResponseSchema,
  LogsResponseSchema,
} from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import { LimitExceededError, ValidationError } from "../domain/errors.js";
import { type AppendLimits, checkId, validateAppend } from "../domain/validate-append.js";
import type { Database } from "../storage/database.js";
import type { AppendBatcher } from "../store/append-batcher.js";
import type { LogTail } from "../store/log-tail.js";
import { readEvents, readManyEvents, readState } from "../store/read-events.js";
import { followLog, pageOfLog } from "../store/log-reading.js";
import { readLogHead } from "../store/read-log.js";
import type { StreamLogOptions } from "../store/stream-log.js";
import { appendInStreamOrder } from "./append-stream.js";
import { toEventMessage, toLogEntryMessage, toNewEvent } from "./convert.js";
import { keepRowEncoded, preEncodedBatchGetEventsResponse, preEncodedGetEventsResponse } from "./log-entry-codec.js";
import { logsPollMessages } from "./logs-poll-messages.js";
import { maxMessageBytes } from "./chunk-entries.js";
import { requestClockKey } from "@eskit/server-kit/http/request-clock.js";
import { laneKey, presetJson } from "@eskit/server-kit/http/rpc-lane.js";
import { keepRowJson, logsResponseJson } from "./log-entry-json.js";
import { originatorRpcs } from "./originator-rpcs.js";

export interface EventStoreServiceDeps {
  readonly database: Database;
  readonly batcher: AppendBatcher;
  readonly tail: LogTail;
  readonly limits: AppendLimits;
  /** What each LogsPoll stream may buffer, and its heartbeat (v1's LogsPoll has none: see its service). */
  readonly streams: StreamLogOptions;
}

const maxBatchRanges = 1000;
const maxBatchEvents = 100_000;

/** The RPC edge of the Event Store: protobuf in, protobuf out; the work is in `store/`. */
export function eventStoreService(deps: EventStoreServiceDeps): ServiceImpl<typeof EventStoreService> {
  return {
    ...originatorRpcs(deps.database, deps.limits.maxRequestBytes),

    // Reads take the call's signal too: past the deadline a statement still waiting for a connection leaves the queue,
    // one sent is cancelled in PostgreSQL (once it runs, if it was pipelined behind another).
    async getHead(_request, context) {
      return create(GetHeadResponseSchema, { headId: await readLogHead(deps.database, context.signal) });
    },

    async append(request, context) {
      const events = validateAppend(request.events.map(toNewEvent), deps.limits);
      // The signal carries the call's deadline: a request still queued when it passes is never sent.
      const logIds = await deps.batcher.append(events, context.signal);
      return create(AppendResponseSchema, { logIds });
    },

    // Appends in stream order, each written once the one before it committed, the next one read ahead meanwhile.
    appendStream(requests, context) {
      return appendInStreamOrder(
        requests,
        deps.batcher,
        deps.limits,
        context.signal,
        context.values.get(requestClockKey),
      );
    },

    async getEvents(request, context) {
      checkRange(request);
      const { originatorId, fromVersion, toVersion } = request;
      const { events, snapshot } = request.fromLatestSnapshot
        ? await readState(deps.database, originatorId, fromVersion, toVersion, context.signal)
        : {
            events: await readEvents(deps.database, originatorId, fromVersion, toVersion, context.signal),
            snapshot: undefined,
          };
      // Binary protocols get the events pre-encoded (see log-entry-codec.ts); JSON gets ordinary messages.
      if (isBinary(context)) return preEncodedGetEventsResponse(events, snapshot);
      return create(GetEventsResponseSchema, { events: events.map(toEventMessage), snapshot });
    },

    async batchGetEvents(request, context) {
      if (request.ranges.length > maxBatchRanges) {
        throw new LimitExceededError(`${request.ranges.length} ranges: at most ${maxBatchRanges} per call`);
      }
      request.ranges.forEach((range, i) => checkRange(range, `ranges[${i}].`));
      const results = await readManyEvents(deps.database, request.ranges, maxBatchEvents, context.signal);
      if (isBinary(context)) return preEncodedBatchGetEventsResponse(results);
      return create(BatchGetEventsResponseSchema, {
        results: results.map((r) => ({ events: r.events.map(toEventMessage), snapshot: r.snapshot })),
      });
    },

    async logs(request, context) {
      const page = await pageOfLog(deps.database, request, context.signal);
      if (isBinary(context) || !context.values.get(laneKey)) {
        return create(LogsResponseSchema, {
          entries: page.entries.map(toLogEntryMessage),
          nextFromId: page.nextFromId,
        });
      }
      // JSON in the lane: the page's text written by hand, sent as is (the message carries only what is cheap).
      const message = create(LogsResponseSchema, { nextFromId: page.nextFromId });
      return presetJson(message, logsResponseJson(page.entries, page.nextFromId));
    },

    async *logsPoll(request, context) {
      // Binary protocols get the entries pre-encoded (see log-entry-codec.ts); JSON gets ordinary messages.
      const binary = isBinary(context);
      const lane = context.values.get(laneKey);
      // Streams keep their database pages' rows as what they send, made as each row arrives: wire bytes for binary
      // protocols (see EncodedEntry), JSON text for JSON in the lane (see JsonEntry). Off the lane (gRPC-Web, a
      // compressed call) connect-es serializes the message itself, from the entries' events: rows, as before.
      const keepRow = binary ? keepRowEncoded : lane ? keepRowJson : undefined;
      const streams = keepRow === undefined ? deps.streams : { ...deps.streams, keepRow };
      for await (const batch of followLog(deps.database, deps.tail, request, context.signal, streams)) {
        // An empty batch is a heartbeat: an empty message tells the client the connection is alive.
        if (batch.entries.length === 0) yield create(LogsPollResponseSchema);
        else yield* logsPollMessages(batch.entries, batch.shared, binary, maxMessageBytes, lane);
      }
    },
  };
}

/** A GetEvents range: a valid originator id and from <= to (0 = unbounded). */
function checkRange(range: { originatorId: string; fromVersion: bigint; toVersion: bigint }, where = ""): void {
  checkId(range.originatorId, `${where}originator_id`);
  if (range.toVersion !== 0n && range.fromVersion > range.toVersion) {
    throw new ValidationError(
      `${where}from_version ${range.fromVersion} is after ${where}to_version ${range.toVersion}: the range is empty`,
    );
  }
}

/** Whether the call speaks a binary protocol (gRPC, gRPC-Web, Connect with protobuf), which pre-encoded messages need. */
function isBinary(context: HandlerContext): boolean {
  return !(context.requestHeader.get("content-type") ?? "").includes("json");
}
