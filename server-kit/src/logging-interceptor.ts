import { Code, ConnectError } from "@connectrpc/connect";
import type { Interceptor } from "@connectrpc/connect";
import type { Logger } from "./logger.js";

/**
 * Lowercase snake name of a Connect code, as the Connect protocol spells it on
 * the wire ("invalid_argument"), so log lines match what clients see.
 */
export function codeName(code: Code | undefined): string {
  if (code === undefined) return "ok";
  return Code[code].replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
}

/** Which of the three protocols a request speaks, from its content type. */
export function protocolOf(contentType: string | null): "grpc" | "grpc_web" | "connect" {
  const type = contentType?.toLowerCase() ?? "";
  if (type.startsWith("application/grpc-web")) return "grpc_web";
  if (type.startsWith("application/grpc")) return "grpc";
  return "connect";
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
 * Code of a call that ended with `err` (undefined = no error). A stream that
 * stopped early without an error ended because its signal fired (client
 * cancel, deadline, shutdown), so the signal's reason is the outcome.
 */
function outcome(err: unknown, signal: AbortSignal, completed: boolean): string {
  if (err !== undefined) return codeName(errorCode(err));
  if (!completed) return codeName(signal.aborted ? ConnectError.from(signal.reason).code : Code.Canceled);
  return "ok";
}

/** Codes that mean the server failed, logged at error level. */
const serverFault = new Set(["internal", "unknown", "data_loss"]);

function causeMessage(err: unknown): string {
  const cause = err instanceof ConnectError && err.cause !== undefined ? err.cause : err;
  return cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
}

/**
 * Server interceptor writing exactly one `rpc` line per call when it ends:
 * method, code, duration and protocol — never payloads, which may hold
 * personal data. Server streams are logged when the stream ends, so the
 * duration covers the whole subscription.
 */
export function loggingInterceptor(logger: Logger): Interceptor {
  return (next) => async (req) => {
    const started = performance.now();
    const base = {
      method: `${req.service.typeName}/${req.method.name}`,
      protocol: protocolOf(req.header.get("content-type")),
    };
    const log = (code: string, stream: boolean, err?: unknown): void => {
      const duration_ms = Math.round((performance.now() - started) * 1000) / 1000;
      const fields: Record<string, unknown> = { ...base, code, duration_ms };
      if (stream) fields.stream = true;
      if (!serverFault.has(code)) return logger.info("rpc", fields);
      // A server fault is a bug to fix: keep its cause (a message, not the request).
      if (err !== undefined) fields.error = causeMessage(err);
      logger.error("rpc", fields);
    };
    let res: Awaited<ReturnType<typeof next>>;
    try {
      res = await next(req);
    } catch (err) {
      log(outcome(err, req.signal, true), req.stream, err);
      throw err;
    }
    if (!res.stream) {
      log("ok", false);
      return res;
    }
    return { ...res, message: logWhenDone(res.message, req.signal, (code, err) => log(code, true, err)) };
  };
}

/** Pass the stream through and report its outcome once, however it ends. */
async function* logWhenDone<T>(
  source: AsyncIterable<T>,
  signal: AbortSignal,
  report: (code: string, err: unknown) => void,
): AsyncGenerator<T> {
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
    report(outcome(err, signal, completed), err);
  }
}
