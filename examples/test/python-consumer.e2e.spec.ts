/**
 * examples/python-consumer against the real services: grpcio (Debian's python3-grpcio and python3-grpc-tools, which
 * .ci/run installs), stubs generated from proto/ by the example's own generate.py at test time, the example's
 * main.py as a child process. On PostgreSQL when DATABASE_URL is set, else on PGlite.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll } from "vitest";
import { repoRoot } from "@eskit/test-kit/event-store.js";
import { describeWithTools, pythonGrpc, pythonPath } from "@eskit/test-kit/system-tools.js";
import { consumerExampleTests } from "./consumer-example-tests.js";

const exampleDir = join(repoRoot, "examples/python-consumer");

describeWithTools([pythonGrpc], "the Python consumer example (examples/python-consumer)", () => {
  let stubs: string | undefined;

  beforeAll(async () => {
    stubs = await mkdtemp(join(tmpdir(), "eskit-py-consumer-"));
    await promisify(execFile)(pythonPath, [join(exampleDir, "generate.py"), stubs], { timeout: 60_000 });
  }, 90_000);

  afterAll(async () => {
    if (stubs !== undefined) await rm(stubs, { recursive: true, force: true });
  });

  consumerExampleTests((o) => ({
    command: pythonPath,
    args: [
      join(exampleDir, "main.py"),
      ...["--stubs", stubs!, "--target", o.target, "--consumer-id", o.consumerId, "--selector", o.selector],
      ...(o.batches === true ? ["--batches"] : []),
      ...(o.saveEveryEntries !== undefined ? ["--save-every-entries", String(o.saveEveryEntries)] : []),
      ...(o.saveIntervalMs !== undefined ? ["--save-interval-ms", String(o.saveIntervalMs)] : []),
      ...(o.heartbeatTimeoutMs !== undefined ? ["--heartbeat-timeout-ms", String(o.heartbeatTimeoutMs)] : []),
      ...(o.keepaliveTimeMs !== undefined ? ["--keepalive-time-ms", String(o.keepaliveTimeMs)] : []),
      ...(o.keepaliveTimeoutMs !== undefined ? ["--keepalive-timeout-ms", String(o.keepaliveTimeoutMs)] : []),
      // Quick reconnections, so that a restart of the store costs the test little time.
      ...["--initial-backoff-ms", "50", "--max-backoff-ms", "500"],
    ],
    env: { ESKIT_TOKEN: o.token ?? "" },
    cwd: exampleDir,
  }));
});
