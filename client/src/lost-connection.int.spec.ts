import * as http from "node:http";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter, type HandlerContext } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { AppLogEntrySchema } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import { EventStoreService } from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEventStoreClient } from "./event-store-client.js";
import { lostConnectionMessage } from "./lost-connection.js";
import { createNodeTransport, type NodeProtocol } from "./node.js";
import { createTransport, type WebProtocol } from "./transport.js";

// A server that dies under calls: a request with `x-die-after-ms` gets its connection (HTTP/1.1) or its whole session
// (HTTP/2) destroyed that long after it arrived, as when the server process is killed mid-call.

const untilAborted = (ctx: HandlerContext) =>
  new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));

function routes(router: ConnectRouter): void {
  router.service(EventStoreService, {
    async append(_req, ctx) {
      await untilAborted(ctx);
      return { logIds: [] };
    },
    getHead() {
      throw new ConnectError('originator "a" is at version 2', Code.Aborted);
    },
    async *logsPoll(req, ctx) {
      yield { entries: [create(AppLogEntrySchema, { id: req.fromId })] };
      await untilAborted(ctx);
    },
  });
}

const handler = connectNodeAdapter({ routes });
function dying(destroy: (req: http.IncomingMessage | http2.Http2ServerRequest) => void) {
  return (
    req: http.IncomingMessage | http2.Http2ServerRequest,
    res: http.ServerResponse | http2.Http2ServerResponse,
  ) => {
    const after = Number(req.headers["x-die-after-ms"] ?? -1);
    if (after >= 0) setTimeout(() => destroy(req), after);
    handler(req as http.IncomingMessage, res as http.ServerResponse);
  };
}
const h1 = http.createServer(dying((req) => (req as http.IncomingMessage).socket.destroy()));
const h2 = http2.createServer(dying((req) => (req as http2.Http2ServerRequest).stream.session?.destroy()));
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
  await Promise.all([new Promise((r) => h1.close(r)), new Promise((r) => h2.close(r))]);
});

const combinations: Array<[NodeProtocol, "1.1" | "2"]> = [
  ["connect", "1.1"],
  ["connect", "2"],
  ["grpc", "2"],
  ["grpc-web", "1.1"],
  ["grpc-web", "2"],
];

async function failure(call: Promise<unknown>): Promise<ConnectError> {
  try {
    await call;
  } catch (error) {
    return ConnectError.from(error);
  }
  throw new Error("the call succeeded");
}

describe.each(combinations)(
  "createNodeTransport(%s over HTTP/%s) when the connection dies",
  (protocol, httpVersion) => {
    const client = () => {
      const transport = createNodeTransport({ baseUrl: urls[httpVersion], protocol, httpVersion });
      return { transport, events: createEventStoreClient(transport) };
    };
    const dieAfter = (ms: number) => ({ headers: { "x-die-after-ms": String(ms) }, timeoutMs: 5_000 });

    it("reports a unary call cut off mid-way as unavailable (never aborted or canceled), keeping the cause", async () => {
      const { transport, events } = client();
      try {
        const error = await failure(events.append({ events: [] }, dieAfter(50)));
        expect([Code[error.code], error.rawMessage]).toEqual([Code[Code.Unavailable], lostConnectionMessage]);
        expect(error.cause).toBeDefined();
      } finally {
        transport.close();
      }
    });

    it("reports a stream cut off after a message as unavailable", async () => {
      const { transport, events } = client();
      const received: bigint[] = [];
      try {
        const error = await failure(
          (async () => {
            for await (const response of events.logsPoll({ fromId: 7n }, dieAfter(100))) {
              received.push(...response.entries.map((e) => e.id));
            }
          })(),
        );
        expect(received).toEqual([7n]);
        expect([Code[error.code], error.rawMessage]).toEqual([Code[Code.Unavailable], lostConnectionMessage]);
      } finally {
        transport.close();
      }
    });

    it("passes a code the server sent, and the caller's own cancellation, unchanged", async () => {
      const { transport, events } = client();
      try {
        const refused = await failure(events.getHead({}));
        expect([Code[refused.code], refused.rawMessage]).toEqual([
          Code[Code.Aborted],
          'originator "a" is at version 2',
        ]);
        const controller = new AbortController();
        setTimeout(() => controller.abort(), 50);
        const cancelled = await failure(events.append({ events: [] }, { signal: controller.signal }));
        expect(Code[cancelled.code]).toBe(Code[Code.Canceled]);
      } finally {
        transport.close();
      }
    });
  },
);

// The fetch-based transport of browsers (and Deno, Bun, Node's fetch): fetch reports a lost connection as a bare
// TypeError ("Failed to fetch" in Chromium, "fetch failed" in Node), which Connect turns into `unknown`.
describe.each(["connect", "grpc-web"] as WebProtocol[])("createTransport(%s) when the connection dies", (protocol) => {
  const events = () => createEventStoreClient(createTransport({ baseUrl: urls["1.1"], protocol }));
  const dieAfter = (ms: number) => ({ headers: { "x-die-after-ms": String(ms) }, timeoutMs: 5_000 });

  it("reports a unary call cut off mid-way as unavailable, keeping the cause", async () => {
    const error = await failure(events().append({ events: [] }, dieAfter(50)));
    expect([Code[error.code], error.rawMessage]).toEqual([Code[Code.Unavailable], lostConnectionMessage]);
    expect(error.cause).toBeDefined();
  });

  it("reports a stream cut off after a message as unavailable", async () => {
    const received: bigint[] = [];
    const error = await failure(
      (async () => {
        for await (const response of events().logsPoll({ fromId: 7n }, dieAfter(100))) {
          received.push(...response.entries.map((e) => e.id));
        }
      })(),
    );
    expect(received).toEqual([7n]);
    expect([Code[error.code], error.rawMessage]).toEqual([Code[Code.Unavailable], lostConnectionMessage]);
  });

  it("passes a code the server sent, and the caller's own cancellation, unchanged", async () => {
    const refused = await failure(events().getHead({}));
    expect([Code[refused.code], refused.rawMessage]).toEqual([Code[Code.Aborted], 'originator "a" is at version 2']);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const cancelled = await failure(events().append({ events: [] }, { signal: controller.signal }));
    expect(Code[cancelled.code]).toBe(Code[Code.Canceled]);
  });
});
