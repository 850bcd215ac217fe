import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

const packages =
  "{server-kit,event-store,client,cli,console,crud-store,metrics-consumer,jetstream-bridge,test-kit,deploy,examples}";
/** Files run side by side: one per core here, two in CI (its machines have 2 cores, and timings there must hold). */
const suiteWorkers = process.env["CI"] === "true" ? 2 : Math.max(2, availableParallelism());

/**
 * One configuration for every package, in two projects. Tests are named by tier (`*.unit.spec.ts`, `*.int.spec.ts`,
 * `*.e2e.spec.ts`, `*.fault.spec.ts`), so `npx vitest run unit` runs one tier alone (a file-name filter), and
 * `npx vitest run --project fault` the fault tier alone.
 *
 * - `suite`: unit, integration and end-to-end tests, a file per core at a time (two in CI).
 * - `fault`: tests that drive real service processes from outside under faults (kill -9, a cut database, unread
 *   streams, hostile clients). They measure RSS and latency, so they run one file at a time, after `suite` has
 *   finished (`sequence.groupOrder`), never sharing the two cores with another heavy file.
 */
export default defineConfig({
  test: {
    exclude: ["**/node_modules/**", "**/data/**"],
    // expect.poll waits 1 s by default: too short for a page that reads two versions and renders a diff while CI's
    // two cores run other end-to-end files. A condition that never holds still fails, 5 s later.
    expect: { poll: { timeout: 5000 } },
    // Property and stress sizes: small on a developer's machine, full in CI (test-kit/src/test-sizes.ts).
    setupFiles: ["test-kit/src/vitest-setup.ts"],
    // Forks isolate PGlite's WASM memory and native handles per file; the CI machines have 2 cores.
    pool: "forks",
    projects: [
      {
        extends: true,
        test: {
          name: "suite",
          include: [`${packages}/**/*.spec.ts`],
          exclude: ["**/*.fault.spec.ts"],
          // End-to-end tests start servers and, on PGlite, initialise a database (about 3 s each).
          testTimeout: 30_000,
          hookTimeout: 60_000,
          maxWorkers: suiteWorkers,
          fileParallelism: true,
        },
      },
      {
        extends: true,
        test: {
          name: "fault",
          include: [`${packages}/**/*.fault.spec.ts`],
          // A fault test spawns processes, kills them and waits for recovery: minutes, not seconds.
          testTimeout: 180_000,
          hookTimeout: 120_000,
          maxWorkers: 1,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
