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
import { checkId, validateAppend } from "../domain/validate-append.js";
import type { EventStoreServiceDeps } from "../rpc/event-store-service.js";
import { readEvents } from "../store/read-events.js";
import { followLog, pageOfLog } from "../store/log-reading.js";
import { fromV1Event, toV1Event, toV1LogEntry } from "./convert-v1.js";
import { parseOptionalDecimal } from "./decimal.js";
import { healtz } from "./healtz.js";

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

    async logs(request, context) {
      const fromId = parseOptionalDecimal(request.fromId, "from_id", 1n);
      const page = await pageOfLog(deps.database, { ...request, fromId }, context.signal);
      return create(AppLogResponseSchema, { results: page.entries.map(toV1LogEntry) });
    },

    async *logsPoll(request, context) {
      const fromId = parseOptionalDecimal(request.fromId, "from_id", 1n);
      // No heartbeats: v1 streams one AppLogEntry per message (ours sends batches), so an empty message would read
      // as an entry with id 0. A v1 client detects a dead connection with HTTP/2 PINGs (gRPC keepalive) instead.
      const streams = { ...deps.streams, heartbeatMs: 0 };
      for await (const batch of followLog(deps.database, deps.tail, { ...request, fromId }, context.signal, streams)) {
        for (const entry of batch.entries) yield toV1LogEntry(entry);
      }
    },
  };
}
