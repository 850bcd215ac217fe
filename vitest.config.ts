import { defineConfig } from "vitest/config";

/**
 * One configuration for every package. Tests are named by tier (`*.unit.spec.ts`, `*.int.spec.ts`,
 * `*.e2e.spec.ts`), so `npx vitest run unit` runs one tier alone.
 */
export default defineConfig({
  test: {
    include: ["{server-kit,event-store,client,crud-store,metrics-consumer,deploy}/**/*.spec.ts"],
    exclude: ["**/node_modules/**", "**/data/**"],
    // End-to-end tests start servers and, on PGlite, initialise a database (about 3 s each).
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Forks isolate PGlite's WASM memory and native handles per file; the CI machines have 2 cores.
    pool: "forks",
    maxWorkers: 2,
    fileParallelism: true,
  },
});
