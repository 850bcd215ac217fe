/** Log levels in increasing severity; a logger drops lines below its level. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/**
 * Everything the event store reads from its environment, parsed and validated
 * once at start-up so the rest of the code never sees a raw string.
 */
export interface EventStoreConfig {
  port: number;
  host: string;
  /** PostgreSQL URL; when unset the store runs on embedded PGlite under `dataDir`. */
  databaseUrl: string | undefined;
  dataDir: string;
  /** Browser origins allowed by CORS; `["*"]` allows any origin. */
  corsOrigins: string[];
  maxEventBytes: number;
  maxRequestBytes: number;
  dbPoolSize: number;
  appendBatchMaxEvents: number;
  maxEventsPerRequest: number;
  /** Interval of the slow safety poll of the log tail, in case a NOTIFY was missed. */
  pollFallbackMs: number;
  logLevel: LogLevel;
  shutdownTimeoutMs: number;
}

/**
 * Raised when one or more environment variables are invalid. The message lists
 * every bad variable at once, so an operator fixes them in one round.
 */
export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join("\n  ")}`);
  }
}

/** How one variable is parsed; `kind` picks the parser, the rest documents it. */
type EnvSpec =
  | { env: string; kind: "int"; min: number; max?: number; default: number; meaning: string }
  | { env: string; kind: "string"; default: string; meaning: string }
  | { env: string; kind: "postgresUrl"; default: undefined; meaning: string }
  | { env: string; kind: "origins"; default: readonly string[]; meaning: string }
  | { env: string; kind: "enum"; values: readonly string[]; default: string; meaning: string };

type Parsed = { ok: true; value: unknown } | { ok: false; expected: string };

function parseValue(spec: EnvSpec, raw: string): Parsed {
  switch (spec.kind) {
    case "int": {
      const range = spec.max === undefined ? `>= ${spec.min}` : `${spec.min}..${spec.max}`;
      const n = /^[0-9]+$/.test(raw) ? Number(raw) : NaN;
      const ok = Number.isSafeInteger(n) && n >= spec.min && (spec.max === undefined || n <= spec.max);
      return ok ? { ok, value: n } : { ok, expected: `an integer ${range}` };
    }
    case "string":
      return { ok: true, value: raw };
    case "postgresUrl":
      return /^postgres(ql)?:\/\/\S+$/.test(raw)
        ? { ok: true, value: raw }
        : { ok: false, expected: "a URL starting with postgres:// or postgresql://" };
    case "origins": {
      // An origin has no path and no trailing slash: browsers send it that way and we compare exactly.
      const items = raw.split(",").map((s) => s.trim()).filter((s) => s !== "");
      const ok = items.length > 0 && items.every((o) => o === "*" || /^https?:\/\/[^/\s]+$/.test(o));
      return ok ? { ok, value: items } : { ok, expected: "a comma-separated list of origins (* or http(s)://host[:port])" };
    }
    case "enum":
      return spec.values.includes(raw)
        ? { ok: true, value: raw }
        : { ok: false, expected: `one of ${spec.values.join(", ")}` };
  }
}

const specs = {
  port: { env: "PORT", kind: "int", min: 0, max: 65535, default: 8081, meaning: "TCP port serving gRPC, gRPC-Web, Connect and /healthz" },
  host: { env: "HOST", kind: "string", default: "0.0.0.0", meaning: "Interface to listen on" },
  databaseUrl: { env: "DATABASE_URL", kind: "postgresUrl", default: undefined, meaning: "PostgreSQL URL (postgres:// or postgresql://); unset = embedded PGlite in ESKIT_DATA_DIR" },
  dataDir: { env: "ESKIT_DATA_DIR", kind: "string", default: "./data", meaning: "Directory of the embedded PGlite database (used when DATABASE_URL is unset)" },
  corsOrigins: { env: "ESKIT_CORS_ORIGINS", kind: "origins", default: ["*"], meaning: "Comma-separated browser origins allowed by CORS; * allows any" },
  maxEventBytes: { env: "ESKIT_MAX_EVENT_BYTES", kind: "int", min: 1, default: 1048576, meaning: "Largest accepted payload of one event, in bytes (larger → resource_exhausted)" },
  maxRequestBytes: { env: "ESKIT_MAX_REQUEST_BYTES", kind: "int", min: 1, default: 4194304, meaning: "Largest accepted sum of the payloads of one Append request, in bytes (larger → resource_exhausted)" },
  dbPoolSize: { env: "ESKIT_DB_POOL_SIZE", kind: "int", min: 1, max: 1000, default: 10, meaning: "PostgreSQL connection pool size" },
  appendBatchMaxEvents: { env: "ESKIT_APPEND_BATCH_MAX_EVENTS", kind: "int", min: 1, max: 100000, default: 2000, meaning: "Group commit: concurrent Append requests share one transaction until it holds this many events" },
  maxEventsPerRequest: { env: "ESKIT_MAX_EVENTS_PER_REQUEST", kind: "int", min: 1, max: 1000000, default: 10000, meaning: "Most events in one Append request (more → resource_exhausted)" },
  pollFallbackMs: { env: "ESKIT_POLL_FALLBACK_MS", kind: "int", min: 10, max: 60000, default: 1000, meaning: "Interval of the slow fallback poll of the log tail, in ms" },
  logLevel: { env: "LOG_LEVEL", kind: "enum", values: ["debug", "info", "warn", "error"], default: "info", meaning: "Lowest level of log lines written (debug, info, warn, error)" },
  shutdownTimeoutMs: { env: "ESKIT_SHUTDOWN_TIMEOUT_MS", kind: "int", min: 0, max: 600000, default: 8000, meaning: "How long shutdown waits for in-flight requests before closing connections, in ms" },
} as const satisfies Record<keyof EventStoreConfig, EnvSpec>;

/**
 * One row per environment variable, in declaration order; the README's
 * configuration table is generated from (and checked against) it.
 */
export const configDocs: Array<{ name: string; default: string; meaning: string }> = Object.values(specs).map(
  (s: EnvSpec) => ({
    name: s.env,
    default: s.default === undefined ? "(unset)" : Array.isArray(s.default) ? s.default.join(",") : String(s.default),
    meaning: s.meaning,
  }),
);

/**
 * Parse and validate the configuration from `env`. Throws one `ConfigError`
 * naming every invalid variable; empty values count as unset.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): EventStoreConfig {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(specs) as Array<[string, EnvSpec]>) {
    const raw = env[spec.env];
    if (raw === undefined || raw.trim() === "") {
      values[key] = Array.isArray(spec.default) ? [...spec.default] : spec.default;
      continue;
    }
    const parsed = parseValue(spec, raw.trim());
    if (parsed.ok) values[key] = parsed.value;
    else problems.push(`${spec.env} must be ${parsed.expected}, got ${JSON.stringify(raw)}`);
  }
  const config = values as unknown as EventStoreConfig;
  const sizesParsed = !problems.some((p) => /^ESKIT_MAX_(EVENT|REQUEST)_BYTES /.test(p));
  if (sizesParsed && config.maxEventBytes > config.maxRequestBytes) {
    problems.push(
      `ESKIT_MAX_EVENT_BYTES must be <= ESKIT_MAX_REQUEST_BYTES (${config.maxRequestBytes}), got "${config.maxEventBytes}"`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
