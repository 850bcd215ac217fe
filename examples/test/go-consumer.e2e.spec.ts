/**
 * examples/go-consumer against the real services: built by the example's own build.sh at test time, fully offline
 * from Debian's Go packages (golang-go, golang-google-grpc-dev, golang-google-protobuf-dev, protoc-gen-go,
 * protoc-gen-go-grpc, protobuf-compiler, which .ci/run installs), stubs generated from proto/, the binary run as a
 * child process. On PostgreSQL when DATABASE_URL is set, else on PGlite.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll } from "vitest";
import { repoRoot } from "@eskit/test-kit/event-store.js";
import { describeWithTools, goGrpc } from "@eskit/test-kit/system-tools.js";
import { consumerExampleTests } from "./consumer-example-tests.js";

const exampleDir = join(repoRoot, "examples/go-consumer");

describeWithTools([goGrpc], "the Go consumer example (examples/go-consumer)", () => {
  let out: string | undefined;

  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), "eskit-go-consumer-"));
    // A first build compiles grpc and its dependencies from source (about 20 s here); later ones use Go's cache.
    await promisify(execFile)("bash", [join(exampleDir, "build.sh"), out], { timeout: 240_000 });
  }, 300_000);

  afterAll(async () => {
    if (out !== undefined) await rm(out, { recursive: true, force: true });
  });

  consumerExampleTests((o) => ({
    command: join(out!, "go-consumer"),
    args: [
      ...["-target", o.target, "-consumer-id", o.consumerId, "-selector", o.selector],
      ...(o.batches === true ? ["-batches"] : []),
      ...(o.saveEveryEntries !== undefined ? ["-save-every-entries", String(o.saveEveryEntries)] : []),
      ...(o.saveIntervalMs !== undefined ? ["-save-interval", `${o.saveIntervalMs}ms`] : []),
      ...(o.heartbeatTimeoutMs !== undefined ? ["-heartbeat-timeout", `${o.heartbeatTimeoutMs}ms`] : []),
      // grpc-go raises a keepalive time under 10 s to 10 s: the silent-connection test waits that long.
      ...(o.keepaliveTimeMs !== undefined ? ["-keepalive-time", `${o.keepaliveTimeMs}ms`] : []),
      ...(o.keepaliveTimeoutMs !== undefined ? ["-keepalive-timeout", `${o.keepaliveTimeoutMs}ms`] : []),
      // Quick reconnections, so that a restart of the store costs the test little time.
      ...["-initial-backoff", "50ms", "-max-backoff", "500ms"],
    ],
    env: { ESKIT_TOKEN: o.token ?? "" },
    cwd: exampleDir,
  }));
});
