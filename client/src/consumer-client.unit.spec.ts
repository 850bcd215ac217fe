import { Code, ConnectError, createRouterTransport } from "@connectrpc/connect";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ConsumerService, type SaveOffsetRequest } from "@eskit/gen/eskit/eventstore/v1/consumer_pb.js";
import { describe, expect, it } from "vitest";
import { createConsumerClient } from "./consumer-client.js";

function fakeConsumers(offsets: Map<string, bigint>, failWith?: Code) {
  return createConsumerClient(
    createRouterTransport(({ service }) =>
      service(ConsumerService, {
        getOffset(req) {
          if (failWith !== undefined) throw new ConnectError("boom", failWith);
          const offset = offsets.get(req.consumerId);
          if (offset === undefined) throw new ConnectError(`no consumer ${req.consumerId}`, Code.NotFound);
          return { offset, updatedAt: timestampFromDate(new Date(0)) };
        },
        saveOffset(req: SaveOffsetRequest) {
          offsets.set(req.consumerId, req.offset);
          return {};
        },
        listConsumers() {
          return { consumers: [...offsets].map(([consumerId, offset]) => ({ consumerId, offset })) };
        },
      }),
    ),
  );
}

describe("consumer client", () => {
  it("getOffset(id) resolves to undefined for a consumer that never saved an offset", async () => {
    expect(await fakeConsumers(new Map()).getOffset("new-consumer")).toBeUndefined();
  });

  it("getOffset(id) returns the saved offset as a bigint", async () => {
    const consumers = fakeConsumers(new Map());
    await consumers.saveOffset("projector", 18446744073709551615n);
    const found = await consumers.getOffset("projector");
    expect(found?.offset).toBe(18446744073709551615n);
  });

  it("getOffset(id) still rejects errors other than not_found", async () => {
    await expect(fakeConsumers(new Map(), Code.Unavailable).getOffset("x")).rejects.toMatchObject({
      code: Code.Unavailable,
    });
  });

  it("getOffset(request) keeps the generated behaviour and rejects an unknown consumer with not_found", async () => {
    await expect(fakeConsumers(new Map()).getOffset({ consumerId: "x" })).rejects.toMatchObject({
      code: Code.NotFound,
    });
  });

  it("saveOffset accepts a request message as well as an id and offset", async () => {
    const offsets = new Map<string, bigint>();
    const consumers = fakeConsumers(offsets);
    await consumers.saveOffset({ consumerId: "a", offset: 3n });
    await consumers.saveOffset("b", 4n);
    const list = await consumers.listConsumers({});
    expect(list.consumers.map((c) => [c.consumerId, c.offset])).toEqual([
      ["a", 3n],
      ["b", 4n],
    ]);
  });
});
