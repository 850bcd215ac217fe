import { createEventStoreClient, type EventStoreClient } from "@eskit/client/event-store-client.js";
import { createNodeTransport } from "@eskit/client/node.js";

/** An Event Store client over gRPC (binary protobuf, one HTTP/2 connection), and how to close that connection. */
export interface BenchClient {
  readonly client: EventStoreClient;
  close(): void;
}

/** Connects the way a Node service would in production: the client package's gRPC transport. */
export function connectGrpc(url: string): BenchClient {
  const transport = createNodeTransport({ baseUrl: url, protocol: "grpc" });
  return { client: createEventStoreClient(transport), close: () => transport.close() };
}
