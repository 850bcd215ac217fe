import { ConsumerService as ConsumerServiceV1 } from "@eskit/gen/contracts/consumerstore/service_pb.js";
import { EventstoreService as EventstoreServiceV1 } from "@eskit/gen/contracts/eventstore/service_pb.js";
import { ConsumerService } from "@eskit/gen/eskit/eventstore/v1/consumer_pb.js";
import { EventStoreService } from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import { type AccessTables, classify } from "@eskit/server-kit/auth/rpc-access.js";

/**
 * Who may call each RPC of the Event Store when access control is on (see server-kit's rpc-access.ts), in one place
 * to audit. A new method fails the type check until it is classified here; the access table of docs/limits-and-access-control.md is checked
 * against this (deploy/test/rpc-access.unit.spec.ts).
 */
export const eventStoreAccess: AccessTables = new Map([
  classify(EventStoreService, {
    append: "write",
    appendStream: "write",
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
  // The original v1 Event Store and Consumer contracts, on the same port; Healtz is their health check, open.
  classify(EventstoreServiceV1, {
    healtz: "open",
    append: "write",
    getEvents: "read",
    logs: "read",
    logsPoll: "read",
  }),
  classify(ConsumerServiceV1, { healtz: "open", logConsume: "write", getLogConsume: "read", list: "read" }),
]);
