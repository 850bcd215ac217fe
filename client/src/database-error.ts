import { noAnswerCode } from "./database-deadline.js";

/**
 * SQLSTATEs that say "the same transaction may succeed if sent again": a serialization failure or deadlock (the other
 * transaction won, ours was rolled back), a lock wait that timed out, a server shutting down or not yet up, too many
 * connections, and every connection exception (class 08).
 */
const transientStates: ReadonlySet<string> = new Set([
  "40001", // serialization_failure
  "40P01", // deadlock_detected
  "55P03", // lock_not_available
  "57P01", // admin_shutdown (pg_terminate_backend, a fast shutdown)
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now (starting up, in recovery)
  "53300", // too_many_connections
]);

/**
 * What postgres.js and Node report when the connection itself went away: a socket closed under a query, a connect
 * that timed out or was refused, a reset. `CONNECTION_ENDED` and `CONNECTION_DESTROYED` are not here: they mean the
 * application ended its own pool (`sql.end()`), which no retry can undo.
 */
const lostConnectionCodes: ReadonlySet<string> = new Set([
  "CONNECTION_CLOSED",
  "CONNECT_TIMEOUT",
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
]);

/** The SQLSTATEs of a session the server ends (FATAL): the connection closes right after. */
const sessionEndedStates: ReadonlySet<string> = new Set(["57P01", "57P02"]);

/**
 * Whether a failed transaction on PostgreSQL may succeed when run again, judged by the error's `code` (the SQLSTATE
 * of a postgres.js `PostgresError`, or postgres.js's and Node's connection codes) or that of an error in its `cause`
 * chain (Drizzle wraps the driver's error in a `DrizzleQueryError`). Anything else (a constraint violation, a syntax
 * error, a handler's own exception) is permanent: running the same transaction again would fail the same way.
 */
export function isTransientDatabaseError(error: unknown): boolean {
  let current: unknown = error;
  // A bounded walk: a cause chain can be circular.
  for (let depth = 0; depth < 8 && typeof current === "object" && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (
      typeof code === "string" &&
      (transientStates.has(code) || code.startsWith("08") || lostConnectionCodes.has(code) || code === noAnswerCode)
    ) {
      return true;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Whether the error says that the connection it came from is gone or going: closed, reset, or ended by the server
 * (`pg_terminate_backend`, a shutdown). Nothing more may be sent on that connection (see postgres-transaction.ts).
 */
export function isDeadConnectionError(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && typeof current === "object" && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (
      typeof code === "string" &&
      (sessionEndedStates.has(code) || code.startsWith("08") || lostConnectionCodes.has(code))
    ) {
      return true;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
