/** Log levels in increasing severity; a logger drops lines below its level. */
export type LogLevel = "debug" | "info" | "warn" | "error";

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
    case "httpUrl":
      return /^https?:\/\/[^/\s]+\/?$/.test(raw)
        ? { ok: true, value: raw.replace(/\/$/, "") }
        : { ok: false, expected: "a base URL such as http://host:port (no path)" };
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

/** One row of a service's configuration table (the README's tables are checked against these). */
export interface ConfigDoc {
  name: string;
  default: string;
  meaning: string;
}

/** The documentation rows of `specs`, in declaration order. */
export function configDocsOf(specs: Record<string, EnvSpec>): ConfigDoc[] {
  return Object.values(specs).map((s) => ({
    name: s.env,
    default: s.default === undefined ? "(unset)" : Array.isArray(s.default) ? s.default.join(",") : String(s.default),
    meaning: s.meaning,
  }));
}

/**
 * Parses `env` by `specs` (empty values count as unset). `check` may add cross-variable problems once each variable
 * parsed. Throws one ConfigError naming every invalid variable.
 */
export function loadEnv<T>(
  specs: { [K in keyof T]: EnvSpec },
  env: NodeJS.ProcessEnv,
  check?: (config: T, problems: string[]) => void,
): T {
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
  const config = values as T;
  if (problems.length === 0) check?.(config, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
