import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  type EventStoreService,
  GetSnapshotResponseSchema,
  ListOriginatorsResponseSchema,
  SaveSnapshotResponseSchema,
} from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import { LimitExceededError, ValidationError } from "../domain/errors.js";
import { checkEntityType } from "../domain/event-type.js";
import { checkId } from "../domain/validate-append.js";
import type { Database } from "../storage/database.js";
import { listOriginators } from "../store/list-originators.js";
import { getSnapshot, saveSnapshot } from "../store/snapshots.js";

const defaultLimit = 100;
const maxLimit = 1000;

/**
 * The RPCs that serve stores built on top of this one (the Crud Store): originators by entity type, and snapshots.
 * `maxSnapshotBytes` bounds a snapshot's payload.
 */
export function originatorRpcs(
  database: Database,
  maxSnapshotBytes: number,
): Pick<ServiceImpl<typeof EventStoreService>, "listOriginators" | "saveSnapshot" | "getSnapshot"> {
  return {
    async listOriginators(request) {
      checkEntityType(request.entityType);
      if (request.limit > maxLimit) throw new ValidationError(`limit is ${request.limit}: at most ${maxLimit}`);
      if (request.afterId.length > 255) throw new ValidationError("after_id is longer than an originator id can be");
      const limit = request.limit === 0 ? defaultLimit : request.limit;
      const exclude = request.excludeLastAction === "" ? undefined : request.excludeLastAction;
      if (exclude !== undefined) checkEntityType(exclude, "exclude_last_action");
      const originators = await listOriginators(database, request.entityType, request.afterId, limit, exclude);
      return create(ListOriginatorsResponseSchema, {
        originators: originators.map((o) => ({ id: o.id, version: o.version, lastEventType: o.lastEventType })),
        nextAfterId: originators.length === limit ? originators.at(-1)!.id : "",
      });
    },

    async saveSnapshot(request) {
      checkId(request.originatorId, "originator_id");
      if (request.version < 1n) throw new ValidationError(`version is ${request.version}: versions start at 1`);
      const bytes = Buffer.byteLength(request.payload);
      if (bytes > maxSnapshotBytes) {
        throw new LimitExceededError(`payload is ${bytes} bytes: a snapshot holds at most ${maxSnapshotBytes}`);
      }
      try {
        JSON.parse(request.payload);
      } catch (error) {
        throw new ValidationError(`payload is not valid JSON: ${(error as Error).message}`);
      }
      await saveSnapshot(database.db, request.originatorId, request.version, request.payload);
      return create(SaveSnapshotResponseSchema);
    },

    async getSnapshot(request) {
      checkId(request.originatorId, "originator_id");
      const snapshot = await getSnapshot(database.db, request.originatorId, request.maxVersion);
      return create(GetSnapshotResponseSchema, snapshot);
    },
  };
}
