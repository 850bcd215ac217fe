import { type DestinationStream, pino, type Logger as PinoLogger } from "pino";
import type { LogLevel } from "./env-config.js";

/**
 * Structured logger: one JSON object per line (`time`, `level`, `msg` and the fields), so log shippers can index
 * fields such as `method`, `code` and `duration_ms` without parsing prose. Written by pino: fast, and a line below
 * the level costs a comparison.
 */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** Whether lines of this level are written (to skip building fields that would be dropped). */
  enabled(level: LogLevel): boolean;
  /** A logger that adds `fields` to every line, e.g. a component name. */
  child(fields: Record<string, unknown>): Logger;
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Lines below this level are dropped. */
  level: LogLevel;
  /** Where lines go; defaults to stdout (written synchronously, so no line is lost at exit), as runtimes expect. */
  destination?: NodeJS.WritableStream;
  /** Fields added to every line. */
  base?: Record<string, unknown>;
}

/** Keys of every line that a field may not replace. */
const reserved = new Set(["time", "level", "msg"]);

/**
 * Field names whose values never reach a log, wherever they are nested (pino's redaction): credentials a caller
 * might pass on in headers or options.
 */
const redactedPaths = [
  "authorization",
  "*.authorization",
  "headers.authorization",
  "*.headers.authorization",
  "cookie",
  "*.cookie",
  "token",
  "*.token",
  "password",
  "*.password",
];

/**
 * Fields as JSON can hold them: positions are `bigint` (written as decimal strings, as in the API), errors have no
 * enumerable properties (they would print as `{}`), and a field may not replace `time`, `level` or `msg`. A circular
 * structure must not take the process down: the line keeps its message and says what went wrong.
 */
function jsonSafe(fields: Record<string, unknown>): Record<string, unknown> {
  const path = new Set<object>();
  const convert = (value: unknown): unknown => {
    if (typeof value === "bigint") return value.toString();
    if (value === null || typeof value !== "object") return value;
    if (path.has(value)) throw new TypeError("a field holds a circular structure");
    path.add(value);
    try {
      if (value instanceof Error) {
        const cause = (value as { cause?: unknown }).cause;
        return {
          name: value.name,
          message: value.message,
          stack: value.stack,
          ...(cause === undefined ? {} : { cause: convert(cause) }),
        };
      }
      if (Array.isArray(value)) return value.map(convert);
      const out: Record<string, unknown> = {};
      for (const [key, v] of Object.entries(value)) out[key] = convert(v);
      return out;
    } finally {
      path.delete(value);
    }
  };
  try {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(fields)) if (!reserved.has(key)) out[key] = convert(value);
    return out;
  } catch (error) {
    return { log_error: String(error) };
  }
}

function wrap(instance: PinoLogger): Logger {
  return {
    debug: (msg, fields) => instance.debug(fields ?? {}, msg),
    info: (msg, fields) => instance.info(fields ?? {}, msg),
    warn: (msg, fields) => instance.warn(fields ?? {}, msg),
    error: (msg, fields) => instance.error(fields ?? {}, msg),
    enabled: (level) => instance.isLevelEnabled(level),
    child: (fields) => wrap(instance.child(jsonSafe(fields))),
  };
}

/** Create a JSON-lines logger writing to `destination` (stdout by default). */
export function createLogger(opts: LoggerOptions): Logger {
  const destination: DestinationStream =
    (opts.destination as DestinationStream | undefined) ?? pino.destination({ dest: 1, sync: true });
  const instance = pino(
    {
      level: opts.level,
      // No pid and hostname: the runtime knows them; the service's own base fields instead.
      base: opts.base === undefined ? null : jsonSafe(opts.base),
      messageKey: "msg",
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }), log: jsonSafe },
      // Errors are written by jsonSafe, whatever their key (pino's own `err` serializer would fold causes in).
      serializers: { err: (error: unknown) => error },
      redact: { paths: redactedPaths, censor: "[redacted]" },
    },
    destination,
  );
  return wrap(instance);
}

/** A logger that writes nothing; the default for tests and library callers. */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  enabled: () => false,
  child: () => silentLogger,
};
