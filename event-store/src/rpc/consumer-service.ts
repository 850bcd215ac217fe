import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  ConsumerSchema,
  ConsumerService,
  GetOffsetResponseSchema,
  ListConsumersResponseSchema,
  SaveOffsetResponseSchema,
} from "@eskit/gen/eskit/eventstore/v1/consumer_pb.js";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { checkId } from "../domain/validate-append.js";
import type { Database } from "../storage/database.js";
import { getOffset, listConsumers, saveOffset } from "../store/offsets.js";

/** The RPC edge of consumer offsets. */
export function consumerService(database: Database): ServiceImpl<typeof ConsumerService> {
  return {
    async saveOffset(request) {
      checkId(request.consumerId, "consumer_id");
      await saveOffset(database.db, request.consumerId, request.offset);
      return create(SaveOffsetResponseSchema);
    },
    async getOffset(request) {
      checkId(request.consumerId, "consumer_id");
      const offset = await getOffset(database.db, request.consumerId);
      return create(GetOffsetResponseSchema, { offset: offset.offset, updatedAt: timestampFromDate(offset.updatedAt) });
    },
    async listConsumers() {
      const consumers = await listConsumers(database.db);
      return create(ListConsumersResponseSchema, {
        consumers: consumers.map((c) =>
          create(ConsumerSchema, {
            consumerId: c.consumerId,
            offset: c.offset,
            updatedAt: timestampFromDate(c.updatedAt),
          }),
        ),
      });
    },
  };
}
