import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { CrudStoreService as CrudStoreServiceV1 } from "@eskit/gen/contracts/crudstore/service_pb.js";
import { ConsumerService as ConsumerServiceV1 } from "@eskit/gen/contracts/consumerstore/service_pb.js";
import { EventstoreService as EventstoreServiceV1 } from "@eskit/gen/contracts/eventstore/service_pb.js";
import { CrudStoreService } from "@eskit/gen/eskit/crudstore/v1/crud_store_pb.js";
import { ConsumerService } from "@eskit/gen/eskit/eventstore/v1/consumer_pb.js";
import { EventStoreService } from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import { Health } from "@eskit/gen/grpc/health/v1/health_pb.js";

/**
 * Who may call an RPC when access control is on: `open` = anyone, without a token (health, like `/healthz`, so probes
 * and load balancers need no secret); `read` = a read or a full token (it changes nothing); `write` = a full token.
 */
export type Access = "open" | "read" | "write";

type AccessTable<S extends DescService> = { readonly [M in keyof S["method"]]: Access };

/** One service's classes, keyed by the generated method names: a method missing here fails the type check. */
function classify<S extends DescService>(service: S, table: AccessTable<S>): [string, ReadonlyMap<string, Access>] {
  return [service.typeName, new Map(Object.entries(table) as Array<[string, Access]>)];
}

/**
 * Every RPC of every service, classified explicitly in one place to audit. A new method fails the type check until it
 * is classified here, and a new service fails `rpc-access.unit.spec.ts`, which walks every service in `gen/`.
 */
const accessTable: ReadonlyMap<string, ReadonlyMap<string, Access>> = new Map([
  classify(EventStoreService, {
    append: "write",
    saveSnapshot: "write",
    getEvents: "read",
    batchGetEvents: "read",
    logs: "read",
    logsPoll: "read",
    getHead: "read",
    listOriginators: "read",
    getSnapshot: "read",
  }),
  classify(ConsumerService, {
    saveOffset: "write",
    getOffset: "read",
    listConsumers: "read",
  }),
  classify(CrudStoreService, {
    create: "write",
    update: "write",
    delete: "write",
    registerType: "write",
    updateType: "write",
    get: "read",
    list: "read",
    history: "read",
    getType: "read",
    listTypes: "read",
  }),
  // The original v1 Crud Store contract; Healtz is its health check, open like ours.
  classify(CrudStoreServiceV1, {
    healtz: "open",
    create: "write",
    update: "write",
    delete: "write",
    registerType: "write",
    updateType: "write",
    get: "read",
    list: "read",
    getType: "read",
    listTypes: "read",
  }),
  classify(Health, { check: "open", list: "open", watch: "open" }),
  // The original v1 Event Store and Consumer contracts, on the Event Store's port; Healtz is open like ours.
  classify(EventstoreServiceV1, {
    healtz: "open",
    append: "write",
    getEvents: "read",
    logs: "read",
    logsPoll: "read",
  }),
  classify(ConsumerServiceV1, { healtz: "open", logConsume: "write", getLogConsume: "read", list: "read" }),
]);

/** The class of `method`, or undefined for a method of no known service (callers treat it as `write`). */
export function accessOf(method: DescMethod): Access | undefined {
  return accessTable.get(method.parent.typeName)?.get(method.localName);
}
