/**
 * The Dockerfile read the way `docker build` reads it, for the parts these tests check: global ARGs, stages (FROM ...
 * AS name) and their instructions, with line continuations joined and comments dropped. No Docker needed.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./compose-file.js";

export const dockerfilePath = join(repoRoot, "Dockerfile");
export const dockerignorePath = join(repoRoot, ".dockerignore");

/** One instruction: its keyword in upper case, its `--flag=value` options, and the rest of the line. */
export interface Instruction {
  keyword: string;
  flags: Record<string, string>;
  args: string;
}

export interface Stage {
  name: string;
  /** The image or the earlier stage it starts from, with global ARGs substituted. */
  from: string;
  instructions: Instruction[];
}

export interface Dockerfile {
  args: Record<string, string>;
  stages: Stage[];
}

/** Parses Dockerfile text. */
export function parseDockerfile(text: string = readFileSync(dockerfilePath, "utf8")): Dockerfile {
  const lines = text
    .split("\n")
    .filter((line) => !/^\s*#/u.test(line))
    .join("\n")
    .replace(/\\\n\s*/gu, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "");
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of lines) {
    const instruction = parseInstruction(line);
    if (instruction.keyword === "FROM") {
      const match = /^(\S+)(?:\s+AS\s+(\S+))?$/iu.exec(instruction.args);
      if (match === null) throw new Error(`bad FROM: ${line}`);
      const from = (match[1] as string).replace(
        /\$\{(\w+)\}|\$(\w+)/gu,
        (_m, a: string | undefined, b: string | undefined) => args[(a ?? b) as string] ?? "",
      );
      stages.push({ name: match[2] ?? String(stages.length), from, instructions: [] });
    } else if (stages.length === 0) {
      if (instruction.keyword !== "ARG") throw new Error(`only ARG may come before the first FROM: ${line}`);
      const [name, value = ""] = instruction.args.split("=", 2) as [string, string?];
      args[name] = value;
    } else {
      (stages.at(-1) as Stage).instructions.push(instruction);
    }
  }
  return { args, stages };
}

function parseInstruction(line: string): Instruction {
  const [keyword = "", ...words] = line.split(/\s+/u);
  const flags: Record<string, string> = {};
  let rest = line.slice(keyword.length).trim();
  for (const word of words) {
    const match = /^--([a-z-]+)=(\S+)$/u.exec(word);
    if (match === null) break;
    flags[match[1] as string] = match[2] as string;
    rest = rest.slice(word.length).trim();
  }
  return { keyword: keyword.toUpperCase(), flags, args: rest };
}

/** The stages `target` is built from, the first one first (FROM chains within the file). */
export function stageChain(file: Dockerfile, target: string): Stage[] {
  const chain: Stage[] = [];
  for (let name: string | undefined = target; name !== undefined;) {
    const stage = file.stages.find((s) => s.name === name);
    if (stage === undefined) break;
    chain.unshift(stage);
    name = stage.from;
  }
  if (chain.length === 0) throw new Error(`no stage ${target}`);
  return chain;
}

/** The instructions `target` runs, through its whole FROM chain. */
export function instructionsOf(file: Dockerfile, target: string): Instruction[] {
  return stageChain(file, target).flatMap((s) => s.instructions);
}

/** The arguments of an exec-form (JSON array) CMD, ENTRYPOINT, RUN or HEALTHCHECK CMD. */
export function execForm(args: string): string[] {
  const json = args.replace(/^CMD\s+/u, "");
  const parsed = JSON.parse(json) as unknown;
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === "string")) throw new Error(`not exec form: ${args}`);
  return parsed;
}

/** `KEY=value KEY2=value2` of an ENV instruction (values without spaces, as in this Dockerfile). */
export function envOf(instructions: Instruction[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { keyword, args } of instructions) {
    if (keyword !== "ENV") continue;
    for (const pair of args.split(/\s+/u)) {
      const [key, value] = pair.split("=", 2) as [string, string?];
      if (value === undefined) throw new Error(`ENV without "=": ${args}`);
      env[key] = value;
    }
  }
  return env;
}

/** The last WORKDIR of `instructions` ("/" without one). */
export function workdirOf(instructions: Instruction[]): string {
  return instructions.filter((i) => i.keyword === "WORKDIR").at(-1)?.args ?? "/";
}

/**
 * Whether `.dockerignore` keeps `path` (relative to the context) out of the build context. Supports what Docker's
 * matcher does for the patterns used here: `*`, `**`, `?`, `!` exceptions, and a pattern matching a parent directory.
 */
export function isIgnored(path: string, dockerignore: string = readFileSync(dockerignorePath, "utf8")): boolean {
  const patterns = dockerignore
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
  let ignored = false;
  const parts = path.split("/");
  for (const pattern of patterns) {
    const exception = pattern.startsWith("!");
    const regex = globRegex(exception ? pattern.slice(1) : pattern);
    const matches = parts.some((_p, i) => regex.test(parts.slice(0, i + 1).join("/")));
    if (matches) ignored = !exception;
  }
  return ignored;
}

function globRegex(pattern: string): RegExp {
  const body = pattern
    .replace(/^\/+|\/+$/gu, "")
    .split("/")
    .map((segment) =>
      segment === "**"
        ? "(?:.*)"
        : segment
            .replace(/[.+^${}()|[\]\\]/gu, "\\$&")
            .replace(/\*/gu, "[^/]*")
            .replace(/\?/gu, "[^/]"),
    )
    .join("/")
    .replace(/\(\?:\.\*\)\//gu, "(?:.*/)?");
  return new RegExp(`^${body}$`, "u");
}
