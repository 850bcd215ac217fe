/** The name of the violated constraint of a unique violation (23505), if that is what failed. */
export function violatedConstraint(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    const { code, constraint_name: constraintName, constraint } = e as Record<string, unknown>;
    if (code === "23505") return String(constraintName ?? constraint ?? "");
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

const connectionCodes = new Set([
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/**
 * Whether the error means "the database cannot be reached right now" (so the RPC is `unavailable` and may be
 * retried) rather than "this request is wrong".
 */
export function isConnectionError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") {
      if (connectionCodes.has(code)) return true;
      // 08xxx connection exceptions, 57P01..57P03 shutdown / cannot connect now, 53300 too many connections.
      if (/^08/u.test(code) || /^57P0[123]$/u.test(code) || code === "53300") return true;
    }
    if (e instanceof Error && /PGlite is closed/iu.test(e.message)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** Whether PostgreSQL cancelled the statement (SQLSTATE 57014: a cancel request, or a statement timeout). */
export function isCancelled(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    if ((e as { code?: unknown }).code === "57014") return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** Whether PostgreSQL itself refused a statement (its error carries a SQLSTATE), as opposed to the driver or the network. */
export function isPostgresError(error: unknown): boolean {
  const e = error as { code?: unknown; severity?: unknown } | null;
  return typeof e?.code === "string" && /^[0-9A-Z]{5}$/u.test(e.code) && typeof e.severity === "string";
}
