import { Code, ConnectError } from "@connectrpc/connect";

// Computed once: interceptors name a code on every call.
const names: readonly string[] = Object.values(Code)
  .filter((code): code is Code => typeof code === "number")
  .reduce<string[]>((all, code) => {
    all[code] = Code[code].replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
    return all;
  }, []);

/**
 * Lowercase snake name of a Connect code, as the Connect protocol spells it on
 * the wire ("invalid_argument"), so logs and metrics match what clients see.
 */
export function codeName(code: Code | undefined): string {
  return code === undefined ? "ok" : (names[code] ?? String(code));
}

/**
 * The code the client receives for `err`: Connect answers anything that is
 * not a ConnectError with `internal` (an abort is reported as `canceled`).
 */
function errorCode(err: unknown): Code {
  if (err instanceof ConnectError) return err.code;
  const code = ConnectError.from(err).code;
  return code === Code.Unknown ? Code.Internal : code;
}

/**
 * Code of a call that ended with `err` (undefined err and result = ok). A
 * stream that stopped early without an error ended because its signal fired
 * (client cancel, deadline, shutdown), so the signal's reason is the outcome.
 */
export function outcomeCode(err: unknown, signal: AbortSignal, completed: boolean): Code | undefined {
  if (err !== undefined) return clientWentAway(err, signal) ? Code.Canceled : errorCode(err);
  if (!completed)
    return !signal.aborted || clientWentAway(signal.reason, signal)
      ? Code.Canceled
      : ConnectError.from(signal.reason).code;
  return undefined;
}

/**
 * Whether `err` is how connect-node ends a call whose client's connection died (a process killed, a network cut):
 * the peer resets its HTTP/2 streams, and the call's signal is aborted with an `internal` ConnectError ("http/2
 * stream closed with error code INTERNAL_ERROR"). Nothing of ours failed: the client is gone, a cancel. Our own
 * aborts of a call say `unavailable` (shutdown) or `deadline_exceeded`, never `internal`.
 */
export function clientWentAway(err: unknown, signal: AbortSignal): err is ConnectError {
  return signal.aborted && err === signal.reason && err instanceof ConnectError && err.code === Code.Internal;
}

/**
 * Pass a server stream through and report its outcome once, however it ends
 * (completion, error, or the consumer stopping early). `onStart` runs when the
 * first message is asked for: a stream nobody reads never starts, so a
 * start/end pair (e.g. an open-streams gauge) always balances.
 */
export async function* whenStreamEnds<T>(
  source: AsyncIterable<T>,
  signal: AbortSignal,
  report: (code: Code | undefined, err: unknown) => void,
  onStart?: () => void,
): AsyncGenerator<T> {
  onStart?.();
  let err: unknown;
  let completed = false;
  try {
    for await (const message of source) yield message;
    // The handler may return quietly after its signal fired (e.g. on cancel).
    completed = !signal.aborted;
  } catch (e) {
    err = e;
    throw e;
  } finally {
    report(outcomeCode(err, signal, completed), err);
  }
}
