import { CrudStoreService as CrudStoreServiceV1 } from "@eskit/gen/contracts/crudstore/service_pb.js";
import { CrudStoreService } from "@eskit/gen/eskit/crudstore/v1/crud_store_pb.js";
import { type AccessTables, classify } from "@eskit/server-kit/auth/rpc-access.js";

/**
 * Who may call each RPC of the Crud Store when access control is on (see server-kit's rpc-access.ts), in one place to
 * audit. A new method fails the type check until it is classified here; the access table of docs/limits-and-access-control.md is checked against
 * this (deploy/test/rpc-access.unit.spec.ts).
 */
export const crudStoreAccess: AccessTables = new Map([
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
  // The original v1 Crud Store contract, on the same port; Healtz is its health check, open like ours.
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
]);
