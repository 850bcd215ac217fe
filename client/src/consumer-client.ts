import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type CallOptions, type Client, type Transport } from "@connectrpc/connect";
import {
  ConsumerService,
  GetOffsetRequestSchema,
  SaveOffsetRequestSchema,
  type GetOffsetResponse,
  type SaveOffsetResponse,
} from "@eskit/gen/eskit/eventstore/v1/consumer_pb.js";

/**
 * The generated ConsumerService client whose `getOffset` and `saveOffset` also take a plain consumer id.
 * With an id, `getOffset` resolves to `undefined` for an unknown consumer, because "never ran yet" is the normal
 * first state of a consumer, not an error; with a request message it behaves exactly like the generated method
 * (an unknown consumer rejects with `not_found`).
 */
export type ConsumerClient = Omit<Client<typeof ConsumerService>, "getOffset" | "saveOffset"> & {
  getOffset(consumerId: string, options?: CallOptions): Promise<GetOffsetResponse | undefined>;
  getOffset(
    request: MessageInitShape<typeof GetOffsetRequestSchema>,
    options?: CallOptions,
  ): Promise<GetOffsetResponse>;
  saveOffset(consumerId: string, offset: bigint, options?: CallOptions): Promise<SaveOffsetResponse>;
  saveOffset(
    request: MessageInitShape<typeof SaveOffsetRequestSchema>,
    options?: CallOptions,
  ): Promise<SaveOffsetResponse>;
};

/** Creates a {@link ConsumerClient} over any transport (browser or Node). */
export function createConsumerClient(transport: Transport): ConsumerClient {
  const client = createClient(ConsumerService, transport);

  async function getOffset(consumerId: string, options?: CallOptions): Promise<GetOffsetResponse | undefined>;
  async function getOffset(
    request: MessageInitShape<typeof GetOffsetRequestSchema>,
    options?: CallOptions,
  ): Promise<GetOffsetResponse>;
  async function getOffset(
    idOrRequest: string | MessageInitShape<typeof GetOffsetRequestSchema>,
    options?: CallOptions,
  ): Promise<GetOffsetResponse | undefined> {
    if (typeof idOrRequest !== "string") {
      return client.getOffset(idOrRequest, options);
    }
    try {
      return await client.getOffset(create(GetOffsetRequestSchema, { consumerId: idOrRequest }), options);
    } catch (err) {
      if (err instanceof ConnectError && err.code === Code.NotFound) {
        return undefined;
      }
      throw err;
    }
  }

  async function saveOffset(consumerId: string, offset: bigint, options?: CallOptions): Promise<SaveOffsetResponse>;
  async function saveOffset(
    request: MessageInitShape<typeof SaveOffsetRequestSchema>,
    options?: CallOptions,
  ): Promise<SaveOffsetResponse>;
  async function saveOffset(
    idOrRequest: string | MessageInitShape<typeof SaveOffsetRequestSchema>,
    offsetOrOptions?: bigint | CallOptions,
    options?: CallOptions,
  ): Promise<SaveOffsetResponse> {
    if (typeof idOrRequest !== "string") {
      return client.saveOffset(idOrRequest, offsetOrOptions as CallOptions | undefined);
    }
    if (typeof offsetOrOptions !== "bigint") {
      throw new TypeError("saveOffset(consumerId, offset): offset must be a bigint");
    }
    return client.saveOffset(
      create(SaveOffsetRequestSchema, { consumerId: idOrRequest, offset: offsetOrOptions }),
      options,
    );
  }

  return { ...client, getOffset, saveOffset };
}
