import { Code, ConnectError } from "@connectrpc/connect";
import { VersionTakenError } from "../domain/errors.js";

/**
 * An Append's failure as the core knows it: `aborted` (a version already taken) becomes VersionTakenError, keeping
 * the Event Store's message; anything else (`unavailable`, a passed deadline, ...) is returned as it is.
 */
export function appendFailure(error: unknown): unknown {
  if (error instanceof ConnectError && error.code === Code.Aborted) {
    return new VersionTakenError(error.rawMessage, { cause: error });
  }
  return error;
}
