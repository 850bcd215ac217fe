import { ConnectError } from "@connectrpc/connect";
import type { Interceptor } from "@connectrpc/connect";
import type { Logger } from "./logger.js";
import { codeName, outcomeCode, whenStreamEnds } from "./rpc-outcome.js";

/** Which of the three protocols a request speaks, from its content type. */
export function protocolOf(contentType: string | null): "grpc" | "grpc_web" | "connect" {
  const type = contentType?.toLowerCase() ?? "";
  if (type.startsWith("application/grpc-web")) return "grpc_web";
  if (type.startsWith("application/grpc")) return "grpc";
  return "connect";
}

/** Codes that mean the server failed, logged at error level. */
const serverFault = new Set(["internal", "unknown", "data_loss"]);

function causeMessage(err: unknown): string {
  const cause = err instanceof ConnectError && err.cause !== undefined ? err.cause : err;
  return cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
}

function causeStack(err: unknown): string | undefined {
  const cause = err instanceof ConnectError && err.cause !== undefined ? err.cause : err;
  return cause instanceof Error ? cause.stack : undefined;
}

/** The message of the innermost cause of `err`, when it has one (the error a driver raised). */
function rootCause(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e instanceof Error && e.cause !== undefined; depth++) e = e.cause;
  return e === err || !(e instanceof Error) ? undefined : `${e.name}: ${e.message}`;
}

/** Options of {@link loggingInterceptor}. */
export interface LoggingOptions {
  /** A unary call that took at least this long is logged at info (`slow: true`), in ms. Default 1000. */
  slowCallMs?: number;
}

/** Codes a server stream ends with in the normal course: its client went, or the server is shutting down. */
const streamEnds = new Set(["ok", "canceled"]);

/**
 * Server interceptor writing exactly one `rpc` line per call when it ends: method, code, duration and protocol —
 * never payloads, which may hold personal data. Server streams are logged when the stream ends, so the duration covers
 * the whole subscription.
 *
 * The line's level says whether an operator must look: `error` for a server fault (a bug of ours, with its cause and
 * stack), `info` for a call that failed otherwise (a client's mistake, a refused token, a lost dependency) and for a
 * unary call slower than `slowCallMs`, `debug` for every other call. So a busy server's log at info shows what matters,
 * not thousands of lines a second; `LOG_LEVEL=debug` shows every call.
 */
export function loggingInterceptor(logger: Logger, options: LoggingOptions = {}): Interceptor {
  const slowCallMs = options.slowCallMs ?? 1000;
  return (next) => async (req) => {
    const started = performance.now();
    const log = (code: string, stream: boolean, err?: unknown): void => {
      const duration = performance.now() - started;
      const slow = !stream && duration >= slowCallMs;
      const fault = serverFault.has(code);
      const quiet = !fault && !slow && (code === "ok" || (stream && streamEnds.has(code)));
      if (quiet && !logger.enabled("debug")) return;
      const fields: Record<string, unknown> = {
        method: `${req.service.typeName}/${req.method.name}`,
        protocol: protocolOf(req.header.get("content-type")),
        code,
        duration_ms: Math.round(duration * 1000) / 1000,
      };
      if (stream) fields.stream = true;
      if (slow) fields.slow = true;
      // Clients get a fixed message for a lost dependency (the driver's words name internal hosts): the log keeps why.
      if (code === "unavailable" && err !== undefined) {
        const root = rootCause(err);
        if (root !== undefined) fields.error = root;
      }
      if (quiet) return logger.debug("rpc", fields);
      if (!fault) return logger.info("rpc", fields);
      // A server fault is a bug to fix: keep its cause and where it was raised (never the request).
      if (err !== undefined) {
        fields.error = causeMessage(err);
        const stack = causeStack(err);
        if (stack !== undefined) fields.stack = stack;
      }
      logger.error("rpc", fields);
    };
    let res: Awaited<ReturnType<typeof next>>;
    try {
      res = await next(req);
    } catch (err) {
      log(codeName(outcomeCode(err, req.signal, true)), req.stream, err);
      throw err;
    }
    if (!res.stream) {
      log("ok", false);
      return res;
    }
    return { ...res, message: whenStreamEnds(res.message, req.signal, (code, err) => log(codeName(code), true, err)) };
  };
}
