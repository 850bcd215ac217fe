import { readFileSync } from "node:fs";
import { parseTokenFile, parseTokenList } from "./auth/token-list.js";

/** Log levels in increasing severity; a logger drops lines below its level (see {@link logLevelSpec}). */
export type LogLevel = (typeof logLevelSpec)["values"][number];

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
export type EnvSpec =
  | { env: string; kind: "int"; min: number; max?: number; default: number; meaning: string }
  | { env: string; kind: "string"; default: string; meaning: string }
  | { env: string; kind: "postgresUrl"; default: undefined; meaning: string }
  | { env: string; kind: "httpUrl"; default: string; meaning: string }
  | { env: string; kind: "origins"; default: readonly string[]; meaning: string }
  | { env: string; kind: "enum"; values: readonly string[]; default: string; meaning: string }
  | SecretSpec;

/**
 * A secret read from `env` or from the file named by `fileEnv` (one or the other, as Docker secrets are mounted):
 * `tokens` is a list (comma-separated in `env`, one a line in the file; [] when unset), `token` a single one
 * (undefined when unset). Messages about a bad value never repeat it.
 */
export interface SecretSpec {
  env: string;
  kind: "tokens" | "token";
  fileEnv: string;
  default: undefined;
  meaning: string;
  fileMeaning: string;
}

/**
 * The value a spec parses to. A service's configuration type is derived from its spec table with {@link ConfigOf}, so
 * the table is the one schema: a variable's type, default, bounds and documentation cannot drift apart.
 */
export type ValueOf<S extends EnvSpec> = S extends { kind: "int" }
  ? number
  : S extends { kind: "enum"; values: readonly (infer V)[] }
    ? V
    : S extends { kind: "string" | "httpUrl" }
      ? string
      : S extends { kind: "origins" | "tokens" }
        ? string[]
        : S extends { kind: "postgresUrl" | "token" }
          ? string | undefined
          : never;

/** The configuration a spec table parses to: one field per spec, of the type its kind parses to. */
export type ConfigOf<S extends Record<string, EnvSpec>> = { -readonly [K in keyof S]: ValueOf<S[K]> };

type Parsed = { ok: true; value: unknown } | { ok: false; expected: string };

function parseValue(spec: Exclude<EnvSpec, SecretSpec>, raw: string): Parsed {
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
    case "httpUrl":
      return /^https?:\/\/[^/\s]+\/?$/.test(raw)
        ? { ok: true, value: raw.replace(/\/$/, "") }
        : { ok: false, expected: "a base URL such as http://host:port (no path)" };
    case "origins": {
      // An origin has no path and no trailing slash: browsers send it that way and we compare exactly.
      const items = raw
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "");
      const ok = items.length > 0 && items.every((o) => o === "*" || /^https?:\/\/[^/\s]+$/.test(o));
      return ok
        ? { ok, value: items }
        : { ok, expected: "a comma-separated list of origins (* or http(s)://host[:port])" };
    }
    case "enum":
      return spec.values.includes(raw)
        ? { ok: true, value: raw }
        : { ok: false, expected: `one of ${spec.values.join(", ")}` };
  }
}

/** One row of a service's configuration table (docs/configuration.md's tables are checked against these). */
export interface ConfigDoc {
  name: string;
  default: string;
  meaning: string;
}

/** The documentation rows of `specs`, in declaration order (a secret has two: its variable and its file's). */
export function configDocsOf(specs: Record<string, EnvSpec>): ConfigDoc[] {
  return Object.values(specs).flatMap((s) => {
    const row = {
      name: s.env,
      default: s.default === undefined ? "(unset)" : Array.isArray(s.default) ? s.default.join(",") : String(s.default),
      meaning: s.meaning,
    };
    if (!isSecret(s)) return [row];
    return [row, { name: s.fileEnv, default: "(unset)", meaning: s.fileMeaning }];
  });
}

function isSecret(spec: EnvSpec): spec is SecretSpec {
  return spec.kind === "tokens" || spec.kind === "token";
}

/** The value of a secret spec, read from its variable or its file; problems go to `problems`. */
function loadSecret(spec: SecretSpec, env: NodeJS.ProcessEnv, problems: string[]): string[] | string | undefined {
  const raw = env[spec.env]?.trim() ?? "";
  const path = env[spec.fileEnv]?.trim() ?? "";
  const unset = spec.kind === "tokens" ? [] : undefined;
  if (raw !== "" && path !== "") {
    problems.push(`set ${spec.env} or ${spec.fileEnv}, not both`);
    return unset;
  }
  if (raw === "" && path === "") return unset;
  let parsed;
  if (raw !== "") {
    parsed = parseTokenList(raw, spec.env);
  } else {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (error) {
      problems.push(
        `${spec.fileEnv} names a file that cannot be read (${JSON.stringify(path)}): ${(error as Error).message}`,
      );
      return unset;
    }
    parsed = parseTokenFile(text, `${spec.fileEnv} (${path})`);
  }
  problems.push(...parsed.problems);
  if (parsed.problems.length > 0) return unset;
  if (spec.kind === "tokens") return parsed.tokens;
  if (parsed.tokens.length !== 1) {
    problems.push(`${raw !== "" ? spec.env : spec.fileEnv} must hold exactly one token, got ${parsed.tokens.length}`);
    return unset;
  }
  return parsed.tokens[0];
}

/**
 * Parses `env` by `specs` (empty values count as unset). `check` may add cross-variable problems once each variable
 * parsed. Throws one ConfigError naming every invalid variable.
 */
export function loadEnv<S extends Record<string, EnvSpec>>(
  specs: S,
  env: NodeJS.ProcessEnv,
  check?: (config: ConfigOf<S>, problems: string[]) => void,
): ConfigOf<S> {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(specs) as Array<[string, EnvSpec]>) {
    if (isSecret(spec)) {
      values[key] = loadSecret(spec, env, problems);
      continue;
    }
    const raw = env[spec.env];
    if (raw === undefined || raw.trim() === "") {
      values[key] = Array.isArray(spec.default) ? [...spec.default] : spec.default;
      continue;
    }
    const parsed = parseValue(spec, raw.trim());
    if (parsed.ok) values[key] = parsed.value;
    else problems.push(`${spec.env} must be ${parsed.expected}, got ${JSON.stringify(raw)}`);
  }
  // Each value came from the parser of its spec's kind, which gives exactly ValueOf of that spec.
  const config = values as ConfigOf<S>;
  if (problems.length === 0) check?.(config, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** `LOG_LEVEL`, the same in every service. */
export const logLevelSpec = {
  env: "LOG_LEVEL",
  kind: "enum",
  values: ["debug", "info", "warn", "error"],
  default: "info",
  meaning: "Lowest level of log lines written (debug, info, warn, error)",
} as const satisfies EnvSpec;

/** `ESKIT_SLOW_CALL_MS`, the same in every service: see server-kit's loggingInterceptor. */
export const slowCallSpec = {
  env: "ESKIT_SLOW_CALL_MS",
  kind: "int",
  min: 1,
  max: 3600000,
  default: 1000,
  meaning: "A unary call that takes at least this long is logged at info (others at debug), in ms",
} as const satisfies EnvSpec;

/** `ESKIT_SHUTDOWN_TIMEOUT_MS` of a server; a service that must do more on shutdown says so in its own meaning. */
export const shutdownTimeoutSpec = {
  env: "ESKIT_SHUTDOWN_TIMEOUT_MS",
  kind: "int",
  min: 0,
  max: 600000,
  default: 8000,
  meaning: "How long shutdown waits for in-flight requests before closing connections, in ms",
} as const satisfies EnvSpec;

/** `PORT` of a service, whose one port serves every protocol, health and metrics. */
export function portSpec(defaultPort: number) {
  return {
    env: "PORT",
    kind: "int",
    min: 0,
    max: 65535,
    default: defaultPort,
    meaning: "TCP port serving gRPC, gRPC-Web, Connect, /healthz and /metrics",
  } as const satisfies EnvSpec;
}

/** `HOST`, the same in every service. */
export const hostSpec = {
  env: "HOST",
  kind: "string",
  default: "0.0.0.0",
  meaning: "Interface to listen on",
} as const satisfies EnvSpec;

/** `ESKIT_CORS_ORIGINS`, the same in every service. */
export const corsOriginsSpec = {
  env: "ESKIT_CORS_ORIGINS",
  kind: "origins",
  default: ["*"],
  meaning: "Comma-separated browser origins allowed by CORS; * allows any",
} as const satisfies EnvSpec;
