import { spawn } from "node:child_process";
import { promtoolPath } from "@eskit/test-kit/promtool.js";

/**
 * Runs `promtool` with `args` and returns its exit code and everything it printed. A missing promtool is an error,
 * never a pass: CI installs the Debian package `prometheus`.
 */
export function promtool(args: readonly string[]): Promise<{ exitCode: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(promtoolPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    child.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        error.code === "ENOENT"
          ? new Error(`promtool is not installed at ${promtoolPath} (apt-get install prometheus, or set PROMTOOL)`)
          : error,
      ),
    );
    child.once("close", (exitCode) => resolve({ exitCode, output }));
  });
}
