import { createClient, type Client, type Transport } from "@connectrpc/connect";
import { Health } from "@eskit/gen/grpc/health/v1/health_pb.js";

/** A client of the standard gRPC health protocol, for readiness checks that speak the same protocol as the calls. */
export type HealthClient = Client<typeof Health>;

/** Creates a {@link HealthClient} over any transport (browser or Node). */
export function createHealthClient(transport: Transport): HealthClient {
  return createClient(Health, transport);
}
