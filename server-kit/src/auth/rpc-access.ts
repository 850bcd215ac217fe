import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { Health } from "@eskit/gen/grpc/health/v1/health_pb.js";

/**
 * Who may call an RPC when access control is on: `open` = anyone, without a token (health, like `/healthz`, so probes
 * and load balancers need no secret); `read` = a read or a full token (it changes nothing); `write` = a full token.
 */
export type Access = "open" | "read" | "write";

/** One service's classes, keyed by the generated method names: a method missing here fails the type check. */
export type AccessTable<S extends DescService> = { readonly [M in keyof S["method"]]: Access };

/** The classes of the RPCs a server serves, by service type name, then method (local) name. */
export type AccessTables = ReadonlyMap<string, ReadonlyMap<string, Access>>;

/** One service's entry of {@link AccessTables}, checked against the service's generated methods. */
export function classify<S extends DescService>(
  service: S,
  table: AccessTable<S>,
): [string, ReadonlyMap<string, Access>] {
  return [service.typeName, new Map(Object.entries(table) as Array<[string, Access]>)];
}

/**
 * The one service server-kit serves itself: gRPC health, open like `/healthz`. Every service hands the server the
 * table of its own services (each in its `src/rpc-access.ts`, classified explicitly in one place to audit); server-kit
 * knows no service but this one.
 */
export const healthAccess: AccessTables = new Map([classify(Health, { check: "open", list: "open", watch: "open" })]);

/** The class of `method` in `tables`, or undefined for a method of no service there (callers treat it as `write`). */
export function accessOf(tables: AccessTables, method: DescMethod): Access | undefined {
  return tables.get(method.parent.typeName)?.get(method.localName);
}
