import type { LogLevel } from "./env-config.js";

/**
 * Structured logger: one JSON object per line, so log shippers can index
 * fields such as `method`, `code` and `duration_ms` without parsing prose.
 */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `fields` to every line, e.g. a component name. */
  child(fields: Record<string, unknown>): Logger;
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Lines below this level are dropped. */
  level: LogLevel;
  /** Where lines go; defaults to stdout, as container runtimes expect. */
  destination?: NodeJS.WritableStream;
  /** Fields added to every line. */
  base?: Record<string, unknown>;
}

const severity: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * Make lines JSON-safe: positions are `bigint` (JSON.stringify throws on them)
 * and errors have no enumerable properties (they would print as `{}`).
 */
function replacer(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) {
    const cause = (value as { cause?: unknown }).cause;
    return { name: value.name, message: value.message, stack: value.stack, ...(cause === undefined ? {} : { cause }) };
  }
  return value;
}

function serialize(record: Record<string, unknown>): string {
  try {
    return JSON.stringify(record, replacer);
  } catch (err) {
    // A circular field must not take the process down; keep the message.
    const { time, level, msg } = record;
    return JSON.stringify({ time, level, msg, log_error: String(err) });
  }
}

/** Create a JSON-lines logger writing to `destination` (stdout by default). */
export function createLogger(opts: LoggerOptions): Logger {
  const destination = opts.destination ?? process.stdout;
  const threshold = severity[opts.level];
  const make = (base: Record<string, unknown>): Logger => {
    const write = (level: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
      if (severity[level] < threshold) return;
      const time = new Date().toISOString();
      // Re-assert the fixed keys after the spread so a field cannot overwrite them.
      const record = { time, level, msg, ...base, ...fields };
      Object.assign(record, { time, level, msg });
      destination.write(serialize(record) + "\n");
    };
    return {
      debug: (msg, fields) => write("debug", msg, fields),
      info: (msg, fields) => write("info", msg, fields),
      warn: (msg, fields) => write("warn", msg, fields),
      error: (msg, fields) => write("error", msg, fields),
      child: (fields) => make({ ...base, ...fields }),
    };
  };
  return make({ ...opts.base });
}

/** A logger that writes nothing; the default for tests and library callers. */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
};
