/**
 * Clients whose calls carry a deadline for the server only: the header says `deadlineMs`, but the client itself waits
 * `patienceMs`, so what a test measures is when the server answered, not when the client gave up (connect-es aborts
 * a call at its own deadline, which would hide a server that never answers).
 */
import type { Interceptor } from "@connectrpc/connect";
import { createEventStoreClient, type EventStoreClient } from "@eskit/client";
import { createNodeTransport } from "@eskit/client/node.js";
import type { Protocol } from "./event-store.js";

/** Sets the protocol's deadline header to `deadlineMs`, whatever the client's own timeout is. */
function deadlineHeader(deadlineMs: number): Interceptor {
  return (next) => (req) => {
    if (req.header.has("grpc-timeout")) req.header.set("grpc-timeout", `${deadlineMs}m`);
    else req.header.set("connect-timeout-ms", String(deadlineMs));
    return next(req);
  };
}

/** An Event Store client over `protocol` (as in the harness) that tells the server a deadline of `deadlineMs`. */
export function serverDeadlineClient(
  baseUrl: string,
  protocol: Protocol,
  deadlineMs: number,
): { eventStore: EventStoreClient; close(): void } {
  const interceptors = [deadlineHeader(deadlineMs)];
  const transport =
    protocol === "grpc"
      ? createNodeTransport({ baseUrl, protocol, httpVersion: "2", interceptors })
      : protocol === "grpc-web"
        ? createNodeTransport({ baseUrl, protocol, httpVersion: "1.1", binary: true, interceptors })
        : createNodeTransport({ baseUrl, protocol, httpVersion: "1.1", binary: false, interceptors });
  return { eventStore: createEventStoreClient(transport), close: () => transport.close() };
}
