/**
 * The v1 contracts through a gRPC stack that is not Node's: a Python client (grpcio, Debian's python3-grpcio and
 * python3-grpc-tools, which .ci/run installs) with stubs generated from proto-compat/ at test time, as an existing
 * ESKIT Python program would have them. Event Store, Consumer and Crud Store v1 services, one script, real sockets.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeWithTools, pythonGrpc, pythonPath } from "@eskit/test-kit/system-tools.js";
import { repoRoot } from "@eskit/test-kit/event-store.js";
import { startCrudStoreHarness, type CrudStoreHarness } from "./harness.js";

const run = promisify(execFile);
const python = pythonPath;
const protos = [
  "contracts/common/originator.proto",
  "contracts/eventstore/event.proto",
  "contracts/eventstore/service.proto",
  "contracts/crudstore/schema.proto",
  "contracts/crudstore/service.proto",
  "contracts/consumerstore/service.proto",
];

describeWithTools([pythonGrpc], "the v1 contracts from a Python gRPC client", () => {
  let harness: CrudStoreHarness;
  let stubs: string;

  beforeAll(async () => {
    stubs = await mkdtemp(join(tmpdir(), "eskit-v1-py-"));
    await run(python, [
      "-m",
      "grpc_tools.protoc",
      "-I",
      join(repoRoot, "proto-compat"),
      `--python_out=${stubs}`,
      `--grpc_python_out=${stubs}`,
      ...protos,
    ]);
    for (const pkg of [
      "contracts",
      "contracts/common",
      "contracts/eventstore",
      "contracts/crudstore",
      "contracts/consumerstore",
    ]) {
      await writeFile(join(stubs, pkg, "__init__.py"), "");
    }
    harness = await startCrudStoreHarness();
  });

  afterAll(async () => {
    await harness?.stop();
    if (stubs !== undefined) await rm(stubs, { recursive: true, force: true });
  });

  it("a Python gRPC client generated from the v1 contracts appends, reads, polls, saves offsets and keeps documents", async () => {
    const hostPort = (url: string) => new URL(url).host;
    const script = join(repoRoot, "crud-store/test/compat-v1-python/v1_client.py");
    const { stdout } = await run(python, [script, stubs, hostPort(harness.eventStore.url), hostPort(harness.url)], {
      timeout: 30_000,
    });
    const lines = stdout.trim().split("\n");
    const typeName = lines.find((l) => l.startsWith("types "))?.match(/'([^']+)'/)?.[1];
    expect(typeName).toMatch(/^py\.Thing/);
    expect(lines).toEqual([
      "healtz OK",
      `events [('1', 'PyUser.Created', '{"n":1}', 1700000000), ('2', 'PyUser.Renamed', '{"n":2}', 0)]`,
      "dup StatusCode.ALREADY_EXISTS",
      "logs True True",
      "offset True",
      `poll ['{"n":1}', '{"n":2}', '{"n":3}']`,
      "crud healtz OK",
      "dup type StatusCode.ALREADY_EXISTS",
      "created 1",
      "updated 2",
      "stale StatusCode.ALREADY_EXISTS",
      `get v1 {"a":1}`,
      `get latest {"a":2}`,
      "list [True]",
      "deleted get StatusCode.NOT_FOUND",
      `deleted=true {"a":2}`,
      `types ['${typeName}']`,
    ]);
  });
});
