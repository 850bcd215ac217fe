import { create } from "@bufbuild/protobuf";
import { createRouterTransport, type HandlerContext } from "@connectrpc/connect";
import { ConsumerService } from "@eskit/gen/eskit/eventstore/v1/consumer_pb.js";
import { AppLogEntrySchema } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import { EventStoreService } from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import { describe, expect, it } from "vitest";
import { bearerTokenInterceptor } from "./bearer-token.js";
import { createLogConsumer } from "./consume.js";

const token = "consumer-token-0123456789";

/** A router transport over a one-entry log that records the Authorization header of every call, by method. */
function recordingTransport(seen: Array<[string, string | null]>) {
  const record = (method: string, ctx: HandlerContext) => seen.push([method, ctx.requestHeader.get("authorization")]);
  return createRouterTransport(
    ({ service }) => {
      service(EventStoreService, {
        async *logsPoll(_req, ctx) {
          record("LogsPoll", ctx);
          yield { entries: [create(AppLogEntrySchema, { id: 1n })] };
          await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
        },
      });
      service(ConsumerService, {
        getOffset: (_req, ctx) => (record("GetOffset", ctx), { offset: 0n }),
        saveOffset: (_req, ctx) => (record("SaveOffset", ctx), {}),
      });
    },
    { transport: { interceptors: [bearerTokenInterceptor(token)] } },
  );
}

describe("bearerTokenInterceptor", () => {
  it("sends the token with every call the consumer helper makes over the transport", async () => {
    const seen: Array<[string, string | null]> = [];
    const stop = new AbortController();
    const summary = await createLogConsumer(recordingTransport(seen)).consume(
      { consumerId: "billing", start: "saved" },
      () => stop.abort(),
      { signal: stop.signal },
    );
    expect(summary).toEqual({ offset: 1n, handled: 1 });
    expect(seen.map(([method]) => method)).toEqual(["GetOffset", "LogsPoll", "SaveOffset"]);
    for (const [, authorization] of seen) expect(authorization).toBe(`Bearer ${token}`);
  });
});
