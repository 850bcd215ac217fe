import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The console's Vite configuration (its bundle budget included). */
export const viteConfigPath = fileURLToPath(new URL("../vite.config.ts", import.meta.url));

/** Vite's command-line entry, found from the console's package as npm installed it. */
function viteBin(): string {
  const manifestPath = createRequire(viteConfigPath).resolve("vite/package.json");
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as { bin: { vite: string } };
  return join(dirname(manifestPath), manifest.bin.vite);
}

/**
 * Builds the console's static files into `outDir` (emptied first) with `vite build`, in a process of its own: what
 * `make run` serves and the image holds, built the way `cd console && npx vite build` builds it. Vite's messages go
 * to this process's stderr, as they would in a terminal. Rejects when the build fails (an error in the sources, a
 * bundle over its budget) or `signal` aborts it. `outDir` must be the caller's own: nothing keeps two builds into
 * one directory apart.
 */
export function buildConsole(outDir: string, options: { signal?: AbortSignal } = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      // --bypass-lock: Vite's CLI refuses a second build of the same project while one runs (a lock that ignores
      // the output directory). Each caller builds into a directory of its own, so two `make run`s, or a test and
      // the image's build step, may build side by side.
      [viteBin(), "build", "--config", viteConfigPath, "--outDir", outDir, "--emptyOutDir", "--bypass-lock"],
      { cwd: dirname(viteConfigPath), stdio: ["ignore", "inherit", "inherit"], signal: options.signal },
    );
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`vite build ${signal === null ? `exited with code ${code}` : `was stopped (${signal})`}`));
    });
  });
}
