import type { Interceptor, Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { bearerTokenInterceptor, type TokenSource } from "./bearer-token.js";
import { headersInterceptor } from "./headers-interceptor.js";
import { markBinaryTransport } from "./lean-logs-poll.js";
import { lostConnectionInterceptor } from "./lost-connection.js";

/** The protocols a browser can speak: plain gRPC needs HTTP/2 trailers, which fetch does not expose. */
export type WebProtocol = "connect" | "grpc-web";

/** Options of {@link createTransport}. */
export interface TransportOptions {
  /** Where the event store listens, e.g. `http://127.0.0.1:8080`. */
  baseUrl: string;
  protocol: WebProtocol;
  /**
   * Protobuf binary instead of JSON. Defaults to false for Connect (readable in the network tab) and true for
   * gRPC-Web (not every gRPC-Web server speaks JSON).
   */
  binary?: boolean;
  /** A fetch to use instead of the global one, e.g. to set `credentials`. */
  fetch?: typeof globalThis.fetch;
  interceptors?: Interceptor[];
  /** Headers sent with every call. */
  headers?: HeadersInit;
  /**
   * Bearer token sent as `Authorization: Bearer <token>` with every call, for services with access control
   * (`ESKIT_AUTH_TOKENS`); a function is asked before each call. Everything built on this transport (the Event
   * Store, Crud Store and consumer clients, `createLogConsumer`) sends it.
   */
  token?: TokenSource;
}

/**
 * Creates a fetch-based transport for the event store. It works in browsers, Deno, Bun and Node alike, which is
 * why it imports nothing from Node; use `createNodeTransport` from `@eskit/client/node.js` for gRPC over HTTP/2.
 */
export function createTransport(options: TransportOptions): Transport {
  const interceptors = [...(options.interceptors ?? [])];
  if (options.headers !== undefined) {
    interceptors.unshift(headersInterceptor(options.headers));
  }
  if (options.token !== undefined) {
    interceptors.unshift(bearerTokenInterceptor(options.token));
  }
  // Innermost, so every interceptor sees a lost connection as `unavailable`, whatever fetch called it.
  interceptors.push(lostConnectionInterceptor());
  const common = {
    baseUrl: options.baseUrl,
    interceptors,
    ...(options.fetch !== undefined ? { fetch: options.fetch } : {}),
  };
  switch (options.protocol) {
    case "connect":
      return markBinaryTransport(
        createConnectTransport({ ...common, useBinaryFormat: options.binary ?? false }),
        options.binary ?? false,
      );
    case "grpc-web":
      return markBinaryTransport(
        createGrpcWebTransport({ ...common, useBinaryFormat: options.binary ?? true }),
        options.binary ?? true,
      );
    default:
      throw new TypeError(`unknown protocol ${String(options.protocol satisfies never)}`);
  }
}
