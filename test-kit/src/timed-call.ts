/** Timing of calls that may fail, for fault tests that bound how fast an answer comes and what it says. */
import { Code, ConnectError } from "@eskit/client";

/** How one call ended: its Connect code (undefined = ok), its message, and how long it took. */
export interface CallOutcome {
  readonly code: Code | undefined;
  readonly message: string;
  readonly ms: number;
}

/** Runs `call` and reports how it ended; it never throws. */
export async function timedCall(call: () => Promise<unknown>): Promise<CallOutcome> {
  const started = performance.now();
  try {
    await call();
    return { code: undefined, message: "", ms: performance.now() - started };
  } catch (error) {
    const e = ConnectError.from(error);
    return { code: e.code, message: e.rawMessage, ms: performance.now() - started };
  }
}

/** The `p`-th percentile (0..100) of `values`, nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

/** Text a client must never see: the driver's own words, which name internal hosts and ports. */
export const driverText =
  /ECONN|EPIPE|ETIMEDOUT|ENOTFOUND|CONNECT_TIMEOUT|CONNECTION_|127\.0\.0\.1|localhost|:\d{4,5}\b/u;

/** A readable name for a code in assertion messages. */
export function codeName(code: Code | undefined): string {
  return code === undefined ? "ok" : Code[code];
}

/** One `rpc` line of a service's JSON log: what the server itself measured of a call. */
export interface RpcLogLine {
  readonly method: string;
  readonly protocol: string;
  readonly code: string;
  readonly duration_ms: number;
  /** Why a call failed, when the log keeps it (the driver's error behind an `unavailable`). */
  readonly error?: string;
}

/** The `rpc` lines of a JSON log (a spawned service's stdout), in order. */
export function rpcLogLines(stdout: string): RpcLogLine[] {
  return stdout
    .split("\n")
    .filter((line) => line.startsWith("{") && line.includes('"msg":"rpc"'))
    .map((line) => JSON.parse(line) as RpcLogLine);
}
