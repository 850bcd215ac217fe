import { spawn } from "node:child_process";

/** Where `promtool` is looked for: `PROMTOOL`, else the Debian package's path. */
export const promtoolPath = process.env["PROMTOOL"] || "/usr/bin/promtool";

/** What `promtool check metrics` said: its exit code and everything it printed (problems go to stderr). */
export interface PromtoolResult {
  readonly exitCode: number | null;
  readonly output: string;
}

/**
 * Runs `promtool check metrics` (Prometheus' own linter: format, naming conventions, HELP text) on `exposition`.
 * A missing promtool is an error, never a pass: install the Debian package `prometheus`.
 */
export function promtoolCheckMetrics(exposition: string): Promise<PromtoolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(promtoolPath, ["check", "metrics"], { stdio: ["pipe", "pipe", "pipe"] });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    child.once("error", (error: NodeJS.ErrnoException) => {
      reject(
        error.code === "ENOENT"
          ? new Error(`promtool is not installed at ${promtoolPath} (apt-get install prometheus, or set PROMTOOL)`)
          : error,
      );
    });
    child.once("close", (exitCode) => resolve({ exitCode, output }));
    // promtool may exit before reading everything (a parse error): that is its answer, not an error of ours.
    child.stdin.on("error", () => {});
    child.stdin.end(exposition);
  });
}
