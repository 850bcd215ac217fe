import * as http from "node:http";
import * as https from "node:https";
import type { Interceptor, Transport } from "@connectrpc/connect";
import {
  Http2SessionManager,
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { bearerTokenInterceptor, type TokenSource } from "./bearer-token.js";
import { headersInterceptor } from "./headers-interceptor.js";
import { markBinaryTransport } from "./lean-logs-poll.js";
import { lostConnectionInterceptor } from "./lost-connection.js";

export { isLostConnection, lostConnectionInterceptor, lostConnectionMessage } from "./lost-connection.js";

/** The protocols a Node client can speak; only Node (not fetch) gives access to HTTP/2 trailers, hence gRPC. */
export type NodeProtocol = "connect" | "grpc" | "grpc-web";

/** Options of {@link createNodeTransport}. */
export interface NodeTransportOptions {
  /** Where the event store listens, e.g. `http://127.0.0.1:8080`. */
  baseUrl: string;
  protocol: NodeProtocol;
  /** Protobuf binary instead of JSON. Defaults to false for Connect and true for gRPC and gRPC-Web. */
  binary?: boolean;
  /** Defaults to "1.1" for Connect and gRPC-Web; gRPC always uses "2", and asking it for "1.1" is an error. */
  httpVersion?: "1.1" | "2";
  interceptors?: Interceptor[];
  /** Headers sent with every call. */
  headers?: HeadersInit;
  /**
   * Bearer token sent as `Authorization: Bearer <token>` with every call, for services with access control
   * (`ESKIT_AUTH_TOKENS`); a function is asked before each call. Everything built on this transport (the Event
   * Store, Crud Store and consumer clients, `createLogConsumer`) sends it.
   */
  token?: TokenSource;
  /**
   * HTTP/2 only: when the connection has received nothing for `intervalMs`, send a PING, and close the connection
   * (and its streams, which then fail and are retried elsewhere) if no answer comes within `timeoutMs`. A connection
   * that died without a reset is otherwise reused forever: every call on it, retries included, would hang. Defaults
   * 15000 and 10000 ms.
   */
  http2Ping?: { intervalMs?: number; timeoutMs?: number };
}

/**
 * A transport that owns its connections. Calls share one HTTP/2 session or one keep-alive agent; `close()` ends
 * them, so a process or a test does not wait for idle connections to time out, and a server can be shown what
 * an abrupt client disconnect looks like.
 */
export interface NodeTransport extends Transport {
  close(): void;
}

/**
 * Creates a transport over Node's `http`/`https` or `http2` modules. Unlike the browser transport it can speak
 * plain gRPC, which is what most non-JavaScript services and tools expect.
 */
export function createNodeTransport(options: NodeTransportOptions): NodeTransport {
  const httpVersion = options.httpVersion ?? (options.protocol === "grpc" ? "2" : "1.1");
  if (options.protocol === "grpc" && httpVersion !== "2") {
    throw new TypeError('gRPC needs HTTP/2: httpVersion must be "2" for protocol "grpc"');
  }
  const interceptors = [...(options.interceptors ?? [])];
  if (options.headers !== undefined) {
    interceptors.unshift(headersInterceptor(options.headers));
  }
  if (options.token !== undefined) {
    interceptors.unshift(bearerTokenInterceptor(options.token));
  }
  // Innermost, so that every interceptor above sees a lost connection as `unavailable`.
  interceptors.push(lostConnectionInterceptor());
  const useBinaryFormat = options.binary ?? options.protocol !== "connect";
  const base = { baseUrl: options.baseUrl, interceptors, useBinaryFormat };

  if (httpVersion === "2") {
    // Node's default session memory (10 MB) is less than one large message in flight: beyond it, nghttp2 resets the stream.
    const sessionManager = new Http2SessionManager(
      options.baseUrl,
      {
        pingIntervalMs: options.http2Ping?.intervalMs ?? 15_000,
        pingTimeoutMs: options.http2Ping?.timeoutMs ?? 10_000,
      },
      { maxSessionMemory: 256 },
    );
    const h2 = { ...base, httpVersion: "2" as const, sessionManager };
    const transport =
      options.protocol === "grpc"
        ? createGrpcTransport(h2)
        : options.protocol === "grpc-web"
          ? createGrpcWebTransport(h2)
          : createConnectTransport(h2);
    return markBinaryTransport(
      withClose(transport, () => sessionManager.abort()),
      useBinaryFormat,
    );
  }
  const agent =
    new URL(options.baseUrl).protocol === "https:"
      ? new https.Agent({ keepAlive: true })
      : new http.Agent({ keepAlive: true });
  const h1 = { ...base, httpVersion: "1.1" as const, nodeOptions: { agent } };
  const transport = options.protocol === "grpc-web" ? createGrpcWebTransport(h1) : createConnectTransport(h1);
  return markBinaryTransport(
    withClose(transport, () => agent.destroy()),
    useBinaryFormat,
  );
}

function withClose(transport: Transport, close: () => void): NodeTransport {
  return { unary: transport.unary.bind(transport), stream: transport.stream.bind(transport), close };
}
