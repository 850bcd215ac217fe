import * as http from "node:http";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { create } from "@bufbuild/protobuf";
import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { AppLogEntrySchema } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import { EventStoreService } from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEventStoreClient } from "./event-store-client.js";
import { createNodeTransport, type NodeProtocol } from "./node.js";

/** Streams opened by the fake LogsPoll, resolved when the server sees each one end. */
const streamEnds: Promise<void>[] = [];
/** The Authorization header of each GetHead call, as the server received it. */
const authorizations: Array<string | null> = [];

function routes(router: ConnectRouter): void {
  router.service(EventStoreService, {
    append(req) {
      return { logIds: req.events.map((e) => e.originator?.version ?? 0n) };
    },
    getHead(_req, ctx) {
      authorizations.push(ctx.requestHeader.get("authorization"));
      return { headId: 1n };
    },
    async *logsPoll(req, ctx: HandlerContext) {
      streamEnds.push(new Promise((resolve) => ctx.signal.addEventListener("abort", () => resolve(), { once: true })));
      yield { entries: [create(AppLogEntrySchema, { id: req.fromId })] };
      await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
    },
  });
}

const handler = connectNodeAdapter({ routes });
const h1 = http.createServer(handler);
const h2 = http2.createServer(handler);
const h2Sessions = new Set<http2.ServerHttp2Session>();
h2.on("session", (s) => {
  h2Sessions.add(s);
  s.on("close", () => h2Sessions.delete(s));
});
const urls = { "1.1": "", "2": "" };

beforeAll(async () => {
  for (const [version, server] of [
    ["1.1", h1],
    ["2", h2],
  ] as const) {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    urls[version] = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
});

afterAll(async () => {
  h1.closeAllConnections();
  for (const s of h2Sessions) s.destroy();
  await Promise.all([new Promise((r) => h1.close(r)), new Promise((r) => h2.close(r))]);
});

const combinations: Array<[NodeProtocol, "1.1" | "2"]> = [
  ["connect", "1.1"],
  ["connect", "2"],
  ["grpc", "2"],
  ["grpc-web", "1.1"],
  ["grpc-web", "2"],
];

describe.each(combinations)("createNodeTransport(%s over HTTP/%s)", (protocol, httpVersion) => {
  it("round-trips 64-bit values through a unary call", async () => {
    const transport = createNodeTransport({ baseUrl: urls[httpVersion], protocol, httpVersion });
    try {
      const ids = await createEventStoreClient(transport).appendEvents([
        { originatorId: "a", version: 18446744073709551615n, eventType: "T.A" },
      ]);
      expect(ids).toEqual([18446744073709551615n]);
    } finally {
      transport.close();
    }
  });

  it("sends the token option as Authorization: Bearer on every call", async () => {
    const transport = createNodeTransport({
      baseUrl: urls[httpVersion],
      protocol,
      httpVersion,
      token: "t0k3n-0123456789abcdef",
    });
    try {
      authorizations.length = 0;
      const client = createEventStoreClient(transport);
      await client.getHead({});
      await client.getHead({});
      expect(authorizations).toEqual(["Bearer t0k3n-0123456789abcdef", "Bearer t0k3n-0123456789abcdef"]);
    } finally {
      transport.close();
    }
  });

  it("close() drops the connection, so the server sees an open stream end", async () => {
    const transport = createNodeTransport({ baseUrl: urls[httpVersion], protocol, httpVersion });
    const stream = createEventStoreClient(transport).tail({ fromId: 77n });
    const first = await stream.next();
    expect(first.value?.id).toBe(77n);
    const serverSawEnd = streamEnds.at(-1);
    transport.close();
    await expect(serverSawEnd).resolves.toBeUndefined();
    await stream.return();
  });
});

describe("createNodeTransport", () => {
  it("refuses gRPC over HTTP/1.1, which cannot carry its trailers", () => {
    expect(() => createNodeTransport({ baseUrl: urls["1.1"], protocol: "grpc", httpVersion: "1.1" })).toThrow(
      /gRPC needs HTTP\/2/,
    );
  });

  it("sends the fixed headers with every call", async () => {
    const seen: string[] = [];
    const transport = createNodeTransport({
      baseUrl: urls["2"],
      protocol: "grpc",
      headers: { "x-api-key": "secret" },
      interceptors: [
        (next) => async (req) => {
          seen.push(req.header.get("x-api-key") ?? "");
          return next(req);
        },
      ],
    });
    try {
      await createEventStoreClient(transport).appendEvents([{ originatorId: "a", version: 1n, eventType: "T.A" }]);
      expect(seen).toEqual(["secret"]);
    } finally {
      transport.close();
    }
  });
});
