import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  AppLogConsumeResponseSchema,
  type ConsumerService,
  GetAppLogConsumeResponseSchema,
  HealthResponseSchema,
  ListConsumersResponseSchema,
} from "@eskit/gen/contracts/consumerstore/service_pb.js";
import { checkId } from "../domain/validate-append.js";
import type { Database } from "../storage/database.js";
import { getOffset, listConsumers, saveOffset } from "../store/offsets.js";
import { parseDecimal } from "./decimal.js";
import { healtz } from "./healtz.js";

/**
 * The original ESKIT v1 `contracts.consumerstore.ConsumerService`, on the same offsets as our ConsumerService: an
 * offset saved through one is read through the other. Offsets travel as decimal strings.
 */
export function consumerV1Service(database: Database): ServiceImpl<typeof ConsumerService> {
  return {
    async healtz() {
      return create(HealthResponseSchema, await healtz(database));
    },
    async logConsume(request) {
      checkId(request.consumerId, "consumer_id");
      await saveOffset(database.db, request.consumerId, parseDecimal(request.offset, "offset"));
      return create(AppLogConsumeResponseSchema);
    },
    async getLogConsume(request) {
      checkId(request.consumerId, "consumer_id");
      const offset = await getOffset(database.db, request.consumerId);
      return create(GetAppLogConsumeResponseSchema, {
        consumerId: offset.consumerId,
        offset: offset.offset.toString(),
      });
    },
    async list() {
      const consumers = await listConsumers(database.db);
      return create(ListConsumersResponseSchema, {
        consumers: consumers.map((c) => ({ consumerId: c.consumerId, offset: c.offset.toString() })),
      });
    },
  };
}
