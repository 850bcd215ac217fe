import { create, toBinary } from "@bufbuild/protobuf";
import { AppendResponseSchema } from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import { describe, expect, it } from "vitest";
import { createEventStoreClient } from "./event-store-client.js";
import { createTransport } from "./transport.js";

interface Captured {
  url: string;
  headers: Headers;
  body: Uint8Array;
}

/** A fetch that records the request and answers with a canned response, so no server is needed. */
function fakeFetch(respond: () => Response, captured: Captured[]): typeof globalThis.fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    captured.push({ url: request.url, headers: request.headers, body: new Uint8Array(await request.arrayBuffer()) });
    return respond();
  };
}

function grpcWebFrame(flags: number, data: Uint8Array): Uint8Array {
  const frame = new Uint8Array(5 + data.length);
  frame[0] = flags;
  new DataView(frame.buffer).setUint32(1, data.length);
  frame.set(data, 5);
  return frame;
}

describe("createTransport", () => {
  it("speaks Connect JSON by default, with the fixed headers on every call", async () => {
    const captured: Captured[] = [];
    const transport = createTransport({
      baseUrl: "http://store.test/api",
      protocol: "connect",
      headers: { "x-api-key": "k1" },
      fetch: fakeFetch(
        () => new Response('{"logIds":["18446744073709551615"]}', { headers: { "content-type": "application/json" } }),
        captured,
      ),
    });
    const ids = await createEventStoreClient(transport).appendEvents([
      { originatorId: "a", version: 1n, eventType: "User.Created", payload: { n: 1 } },
    ]);
    expect(ids).toEqual([18446744073709551615n]);
    expect(captured[0]?.url).toBe("http://store.test/api/eskit.eventstore.v1.EventStoreService/Append");
    expect(captured[0]?.headers.get("content-type")).toBe("application/json");
    expect(captured[0]?.headers.get("x-api-key")).toBe("k1");
    expect(JSON.parse(new TextDecoder().decode(captured[0]?.body))).toMatchObject({
      events: [{ originator: { id: "a", version: "1" }, eventType: "User.Created", payload: '{"n":1}' }],
    });
  });

  it("lets a per-call header override a fixed one", async () => {
    const captured: Captured[] = [];
    const transport = createTransport({
      baseUrl: "http://store.test",
      protocol: "connect",
      headers: { "x-tenant": "default" },
      fetch: fakeFetch(() => new Response("{}", { headers: { "content-type": "application/json" } }), captured),
    });
    await createEventStoreClient(transport).readEvents("a", {}, { headers: { "x-tenant": "t2" } });
    expect(captured[0]?.headers.get("x-tenant")).toBe("t2");
  });

  it("sends the token option as Authorization: Bearer, asking a token function before every call", async () => {
    const captured: Captured[] = [];
    const respond = () => new Response('{"headId":"1"}', { headers: { "content-type": "application/json" } });
    const fixed = createTransport({
      baseUrl: "http://store.test",
      protocol: "connect",
      token: "abc-0123456789abcdef",
      fetch: fakeFetch(respond, captured),
    });
    await createEventStoreClient(fixed).getHead({});
    let turn = 0;
    const rotating = createTransport({
      baseUrl: "http://store.test",
      protocol: "grpc-web",
      binary: false,
      token: async () => `rotated-${++turn}-0123456789`,
      fetch: fakeFetch(respond, captured),
    });
    await createEventStoreClient(rotating)
      .getHead({})
      .catch(() => undefined);
    await createEventStoreClient(rotating)
      .getHead({})
      .catch(() => undefined);
    expect(captured.map((c) => c.headers.get("authorization"))).toEqual([
      "Bearer abc-0123456789abcdef",
      "Bearer rotated-1-0123456789",
      "Bearer rotated-2-0123456789",
    ]);
  });

  it("lets a per-call Authorization header override the token option", async () => {
    const captured: Captured[] = [];
    const transport = createTransport({
      baseUrl: "http://store.test",
      protocol: "connect",
      token: "default-0123456789abcdef",
      fetch: fakeFetch(
        () => new Response('{"headId":"1"}', { headers: { "content-type": "application/json" } }),
        captured,
      ),
    });
    await createEventStoreClient(transport).getHead(
      {},
      { headers: { authorization: "Bearer other-0123456789abcdef" } },
    );
    expect(captured[0]?.headers.get("authorization")).toBe("Bearer other-0123456789abcdef");
  });

  it("speaks binary gRPC-Web by default", async () => {
    const captured: Captured[] = [];
    const message = toBinary(AppendResponseSchema, create(AppendResponseSchema, { logIds: [42n] }));
    const trailer = new TextEncoder().encode("grpc-status: 0\r\n");
    const body = new Uint8Array([...grpcWebFrame(0, message), ...grpcWebFrame(0x80, trailer)]);
    const transport = createTransport({
      baseUrl: "http://store.test",
      protocol: "grpc-web",
      fetch: fakeFetch(
        () => new Response(body, { headers: { "content-type": "application/grpc-web+proto" } }),
        captured,
      ),
    });
    const ids = await createEventStoreClient(transport).appendEvents([
      { originatorId: "a", version: 1n, eventType: "T.A" },
    ]);
    expect(ids).toEqual([42n]);
    expect(captured[0]?.headers.get("content-type")).toBe("application/grpc-web+proto");
  });
});
