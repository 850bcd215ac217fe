/**
 * The Dockerfile played without Docker: its bundle step run as the build stage runs it, each target's files laid out
 * by its `COPY --from=build` instructions under a directory that stands for the image's `/`, and its CMD started
 * there with the target's ENV. What this cannot reproduce is the base image itself (here, this machine's Node.js).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { cp, mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { repoRoot } from "./compose-file.js";
import { envOf, execForm, instructionsOf, type Dockerfile, workdirOf } from "./dockerfile.js";

/** The build stage's bundle step (`RUN node --import tsx deploy/image/bundle.ts /out`), with `/out` under `root`. */
export async function runBundleStep(file: Dockerfile, root: string): Promise<void> {
  const run = file.stages
    .find((s) => s.name === "build")
    ?.instructions.find((i) => i.keyword === "RUN" && i.args.includes("deploy/image/bundle.ts"));
  if (run === undefined) throw new Error("the build stage has no bundle step");
  const [command, ...args] = run.args.split(/\s+/u);
  if (command !== "node") throw new Error(`the bundle step does not start with node: ${run.args}`);
  // The build stage's WORKDIR holds the build context, as the repository root does here.
  const out = await runToEnd(
    process.execPath,
    args.map((a) => (a.startsWith("/") ? join(root, a) : a)),
    repoRoot,
  );
  if (out.code !== 0) throw new Error(`the bundle step failed (${out.code}):\n${out.output}`);
}

/** Copies what `target`'s `COPY --from=build` instructions copy, from `buildRoot` to `imageRoot`. */
export async function layOutTarget(
  file: Dockerfile,
  target: string,
  buildRoot: string,
  imageRoot: string,
): Promise<void> {
  for (const copy of instructionsOf(file, target).filter((i) => i.keyword === "COPY")) {
    if (copy.flags["from"] !== "build")
      throw new Error(`${target} copies from elsewhere than the build stage: ${copy.args}`);
    const [source, destination, ...more] = copy.args.split(/\s+/u);
    if (source === undefined || destination === undefined || more.length > 0)
      throw new Error(`unexpected COPY ${copy.args}`);
    // Only the parent: Node 24's cp refuses (EEXIST, with errorOnExist) a directory copied onto one that exists.
    await mkdir(dirname(join(imageRoot, destination)), { recursive: true });
    await cp(join(buildRoot, source), join(imageRoot, destination), {
      recursive: true,
      errorOnExist: true,
      force: false,
    });
  }
}

/** A target's CMD started under `imageRoot`, with the target's ENV (absolute paths moved under `imageRoot`) and `env`. */
export function startTarget(
  file: Dockerfile,
  target: string,
  imageRoot: string,
  env: Record<string, string>,
): ChildProcess {
  const instructions = instructionsOf(file, target);
  const cmd = instructions.filter((i) => i.keyword === "CMD").at(-1);
  const [command, ...args] = execForm(cmd?.args ?? "null");
  if (command !== "node") throw new Error(`${target}'s CMD does not start node`);
  const imageEnv = Object.fromEntries(
    Object.entries(envOf(instructions)).map(([k, v]) => [k, v.startsWith("/") ? join(imageRoot, v) : v]),
  );
  return spawn(process.execPath, args, {
    cwd: join(imageRoot, workdirOf(instructions)),
    // Nothing of this process's environment but PATH: the image's ENV and Compose's environment are all it gets.
    env: { PATH: process.env["PATH"] ?? "", ...imageEnv, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** Runs a command to its end; output is stdout and stderr together. */
export function runToEnd(
  command: string,
  args: string[],
  cwd: string,
  env?: NodeJS.ProcessEnv,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, output }));
  });
}
