/**
 * compose.yaml as Docker Compose reads it: YAML, then `${VAR}` interpolation from an environment, so that tests check
 * the file with the values it really runs with (by default: nothing set, every default applied).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

/** The repository root: compose.yaml's directory, against which its relative paths resolve. */
export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
export const composePath = join(repoRoot, "compose.yaml");

/** The parts of a Compose service these tests read (the schema test checks the whole file). */
export interface ComposeService {
  image?: string;
  command?: string[];
  build?: { context: string; target?: string; dockerfile?: string };
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[]; interval?: string; timeout?: string; retries?: number; start_period?: string };
  stop_grace_period?: string;
}

export interface ComposeFile {
  name?: string;
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

/**
 * Replaces `${VAR}`, `${VAR:-default}` (default when unset or empty), `${VAR-default}` (when unset),
 * `${VAR:?message}` / `${VAR?message}` (an error when unset) and `$VAR` in every string of `value`; `$$` is a `$`.
 */
export function interpolate(value: unknown, env: Record<string, string | undefined>): unknown {
  if (typeof value === "string") {
    return value.replace(
      /\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/gu,
      (
        _match,
        dollar: string | undefined,
        braced: string | undefined,
        op: string | undefined,
        arg: string | undefined,
        bare: string | undefined,
      ) => {
        if (dollar !== undefined) return "$";
        const name = (braced ?? bare) as string;
        const current = env[name];
        const missing = op?.startsWith(":") === true ? current === undefined || current === "" : current === undefined;
        if (op === undefined || !missing) return current ?? "";
        if (op.endsWith("?")) throw new Error(`${name}: ${arg ?? "required"}`);
        return arg ?? "";
      },
    );
  }
  if (Array.isArray(value)) return value.map((item) => interpolate(item, env));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, interpolate(item, env)]));
  }
  return value;
}

/** Parses Compose YAML text (without interpolation). */
export function parseCompose(text: string): unknown {
  return parse(text, { merge: true }) as unknown;
}

/** compose.yaml, interpolated with `env` (default: no variable set). */
export function loadCompose(
  env: Record<string, string | undefined> = {},
  text = readFileSync(composePath, "utf8"),
): ComposeFile {
  return interpolate(parseCompose(text), env) as ComposeFile;
}

/** One `ports` entry in its short form, `[host_ip:][published:]target[/protocol]`. */
export interface PortMapping {
  hostIp: string | undefined;
  published: string | undefined;
  target: number;
  protocol: string;
}

/** Parses a short-form port mapping (IPv4 host addresses; what compose.yaml uses). */
export function parsePort(spec: string): PortMapping {
  const match = /^(?:(?:(\d{1,3}(?:\.\d{1,3}){3}):)?(\d+(?:-\d+)?)?:)?(\d+)(?:\/(tcp|udp))?$/u.exec(spec);
  if (match === null) throw new Error(`not a port mapping: ${spec}`);
  return { hostIp: match[1], published: match[2], target: Number(match[3]), protocol: match[4] ?? "tcp" };
}

/** One short-form volume entry, `source:target[:mode]`; a bind mount when the source is a path. */
export interface VolumeMount {
  source: string;
  target: string;
  readOnly: boolean;
  kind: "bind" | "volume";
}

export function parseVolume(spec: string): VolumeMount {
  const [source, target, mode, ...rest] = spec.split(":");
  if (source === undefined || target === undefined || rest.length > 0) throw new Error(`not a volume mount: ${spec}`);
  const kind = /^[./~]/u.test(source) ? "bind" : "volume";
  return { source, target, readOnly: mode?.split(",").includes("ro") === true, kind };
}
