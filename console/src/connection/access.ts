import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, AppendRequestSchema, CreateRequestSchema } from "@eskit/client";
import type { Clients } from "./clients.js";

/**
 * What the current token may do at one service:
 * - `write`: every call (a full token, or a service without access control);
 * - `read`: reads only (a read token): the console disables its writes and says why;
 * - `refused`: nothing (no token where one is needed, or one the service does not know);
 * - `unreachable`: the service did not answer.
 */
export type Access =
  | { readonly kind: "write" }
  | { readonly kind: "read"; readonly reason: string }
  | { readonly kind: "refused"; readonly reason: string }
  | { readonly kind: "unreachable"; readonly reason: string };

/** Both services' answers. */
export interface AccessReport {
  readonly eventStore: Access;
  readonly crudStore: Access;
}

const readOnlyReason = "the token may only read: writes need a full token (ESKIT_AUTH_TOKENS)";

/**
 * Reads a probe's refusal. The probe is a write that is invalid whoever sends it (an Append of no events, a Create of
 * no entity type): the services check the token before the request, so `permission_denied` means a read token,
 * `unauthenticated` no usable token, and `invalid_argument` that writes are allowed. Nothing is ever written.
 */
export function accessOf(err: unknown): Access {
  const error = ConnectError.from(err);
  switch (error.code) {
    case Code.InvalidArgument:
      return { kind: "write" };
    case Code.PermissionDenied:
      return { kind: "read", reason: readOnlyReason };
    case Code.Unauthenticated:
      return { kind: "refused", reason: error.rawMessage };
    default:
      return { kind: "unreachable", reason: `${Code[error.code] ?? error.code}: ${error.rawMessage}` };
  }
}

async function probe(call: () => Promise<unknown>): Promise<Access> {
  try {
    await call();
  } catch (err) {
    return accessOf(err);
  }
  // The services refuse both probes; one that was taken means a service that does not check its input.
  return { kind: "unreachable", reason: "the service accepted an empty write: is it an ESKIT service?" };
}

/** Asks both services what the current token may do, without writing anything. */
export async function probeAccess(clients: Clients, signal?: AbortSignal): Promise<AccessReport> {
  const options = { signal, timeoutMs: 5000 };
  const [eventStore, crudStore] = await Promise.all([
    probe(() => clients.eventStore.append(create(AppendRequestSchema, { events: [] }), options)),
    probe(() => clients.crud.create(create(CreateRequestSchema, { entityType: "" }), options)),
  ]);
  return { eventStore, crudStore };
}
