import { codeToString } from "@connectrpc/connect/protocol-connect";
import { Code, ConnectError } from "@connectrpc/connect";
import { schemaViolationsOf } from "@eskit/client";

/**
 * The exit codes of `eskit`, distinct per kind of failure so that scripts can tell them apart (like curl's and
 * git's): what went wrong, not where.
 */
export const exitCodes = {
  ok: 0,
  /** Anything else: a bug of ours or the server's (`internal`, `unknown`, `data_loss`). */
  failed: 1,
  /** A malformed command line or input (unknown flag, malformed JSON, a value the server refuses as invalid). */
  usage: 2,
  /** What was asked for does not exist. */
  notFound: 3,
  /** A write that lost to another one or to what is stored (`aborted`, `already_exists`, `failed_precondition`). */
  conflict: 4,
  /** Refused: no or a wrong token, not allowed, or over a limit. */
  refused: 5,
  /** The service cannot be reached or did not answer in time. */
  unavailable: 6,
  /** Stopped by Ctrl-C (SIGINT), as shells report it. */
  interrupted: 130,
} as const;

/** A failure the command line itself found (bad flags, bad input), before or without calling a service. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** The exit code for an error thrown by a command. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError) return exitCodes.usage;
  if (!(error instanceof ConnectError)) return exitCodes.failed;
  switch (error.code) {
    case Code.InvalidArgument:
    case Code.OutOfRange:
      return exitCodes.usage;
    case Code.NotFound:
      return exitCodes.notFound;
    case Code.Aborted:
    case Code.AlreadyExists:
    case Code.FailedPrecondition:
      return exitCodes.conflict;
    case Code.Unauthenticated:
    case Code.PermissionDenied:
    case Code.ResourceExhausted:
      return exitCodes.refused;
    case Code.Unavailable:
    case Code.DeadlineExceeded:
    case Code.Canceled:
      return exitCodes.unavailable;
    default:
      return exitCodes.failed;
  }
}

/** One line for stderr: the service's code and message, or the usage problem. */
export function describeError(error: unknown): string {
  if (error instanceof UsageError) return error.message;
  if (error instanceof ConnectError) {
    const code = codeToString(error.code);
    // A document that breaks its type's schema: each violation on a line of its own, at its field.
    const violations = schemaViolationsOf(error);
    if (violations !== undefined) {
      const lines = violations.violations.map((v) => `\n  ${v.path === "" ? "(the document)" : v.path}: ${v.message}`);
      return `${code}: the document does not match the schema of ${violations.entityType} (schema_version ${violations.schemaVersion}):${lines.join("")}`;
    }
    return `${code}: ${error.rawMessage}`;
  }
  return error instanceof Error ? error.message : String(error);
}
