import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import {
  AppendEventResponseSchema,
  AppLogResponseSchema,
  GetEventsResponseSchema,
  HealthResponseSchema,
} from "@eskit/gen/contracts/eventstore/event_pb.js";
import type { EventstoreService } from "@eskit/gen/contracts/eventstore/service_pb.js";
import { ConcurrencyError, ValidationError } from "../domain/errors.js";
import { checkEntityType } from "../domain/event-type.js";
import { parseSelector } from "../domain/selector.js";
import { checkId, validateAppend } from "../domain/validate-append.js";
import type { EventStoreServiceDeps } from "../rpc/event-store-service.js";
import { readEvents } from "../store/read-events.js";
import { readLogPage } from "../store/read-log.js";
import { streamLog, streamNothing } from "../store/stream-log.js";
import { fromV1Event, toV1Event, toV1LogEntry } from "./convert-v1.js";
import { parseOptionalDecimal } from "./decimal.js";
import { healtz } from "./healtz.js";

const defaultPageSize = 20;
const maxPageSize = 1000;

/**
 * The original ESKIT v1 `contracts.eventstore.EventstoreService`, served on the same core as our own
 * EventStoreService (same validation, batcher, reads and log tail): only the shapes of requests and answers differ.
 */
export function eventstoreV1Service(deps: EventStoreServiceDeps): ServiceImpl<typeof EventstoreService> {
  return {
    async healtz() {
      return create(HealthResponseSchema, await healtz(deps.database));
    },

    async append(request, context) {
      const events = validateAppend([fromV1Event(request.event)], deps.limits);
      try {
        await deps.batcher.append(events, context.signal);
      } catch (error) {
        // v1 said "this (id, version) exists" with already_exists; ours says "somebody wrote first" with aborted.
        if (error instanceof ConcurrencyError) {
          throw new ConnectError(error.message, Code.AlreadyExists, undefined, undefined, error);
        }
        throw error;
      }
      return create(AppendEventResponseSchema);
    },

    async getEvents(request) {
      // As in v1: all of the originator's events, or those from `version` on when it is set.
      const originator = request.originator;
      if (originator === undefined) throw new ValidationError("originator is missing");
      checkId(originator.id, "originator.id");
      const from = parseOptionalDecimal(originator.version, "originator.version", 0n);
      if (request.entityType !== "") checkEntityType(request.entityType);
      const events = await readEvents(deps.database, originator.id, from, 0n);
      const matching = request.entityType === "" ? events : events.filter((e) => e.entityType === request.entityType);
      return create(GetEventsResponseSchema, { events: matching.map(toV1Event) });
    },

    async logs(request) {
      const filter = parseSelector(request.selector, request.pipelineId);
      const fromId = parseOptionalDecimal(request.fromId, "from_id", 1n);
      if (request.size > maxPageSize) {
        throw new ValidationError(`size is ${request.size}: at most ${maxPageSize} entries per page`);
      }
      const size = request.size === 0 ? defaultPageSize : request.size;
      const entries = filter.matchesNothing ? [] : (await readLogPage(deps.database, fromId, filter, size)).entries;
      return create(AppLogResponseSchema, { results: entries.map(toV1LogEntry) });
    },

    async *logsPoll(request, context) {
      const filter = parseSelector(request.selector, request.pipelineId);
      const fromId = parseOptionalDecimal(request.fromId, "from_id", 1n);
      const { signal } = context;
      // No heartbeats: v1 streams one AppLogEntry per message (ours sends batches), so an empty message would read
      // as an entry with id 0. A v1 client detects a dead connection with HTTP/2 PINGs (gRPC keepalive) instead.
      const streams = { ...deps.streams, heartbeatMs: 0 };
      const batches = filter.matchesNothing
        ? streamNothing(signal, 0)
        : streamLog(deps.database, deps.tail, fromId, filter, signal, streams);
      for await (const batch of batches) {
        for (const entry of batch.entries) yield toV1LogEntry(entry);
      }
      // As our LogsPoll: the log never ends, so the stream stops only when aborted, and says why.
      throw signal.reason;
    },
  };
}
