import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, it } from "vitest";

/**
 * Set by CI (`.ci/run`), which installs every system tool: there a missing tool fails the tests that need it. On a
 * developer's machine, which needs only Node and npm, those tests report themselves skipped and name the install.
 */
export const systemToolsRequired = process.env["ESKIT_REQUIRE_SYSTEM_TOOLS"] === "1";

/** A program outside npm that some tests need. */
export interface SystemTool {
  /** What the test output calls it, e.g. "promtool". */
  readonly name: string;
  /** Whether it is installed and usable here. */
  readonly available: boolean;
  /** The command that installs it, shown in the skip reason. */
  readonly install: string;
}

function tool(name: string, install: string, probe: () => boolean): SystemTool {
  let available: boolean;
  try {
    available = probe();
  } catch {
    available = false;
  }
  return { name, available, install };
}

const executable = (path: string) => () => existsSync(path);

/** Where `promtool` is looked for: `PROMTOOL`, else the Debian package's path. */
export const promtoolPath = process.env["PROMTOOL"] || "/usr/bin/promtool";
/** Where `prometheus` is looked for: `PROMETHEUS`, else the Debian package's path. */
export const prometheusPath = process.env["PROMETHEUS"] || "/usr/bin/prometheus";
/** The Python that has grpcio and grpc_tools (Debian's, not a pyenv one). */
export const pythonPath = "/usr/bin/python3";
/** Debian's Chromium, driven by playwright-core. */
export const chromiumPath = "/usr/bin/chromium";

export const promtool = tool("promtool", "apt-get install prometheus", executable(promtoolPath));
export const prometheus = tool("prometheus", "apt-get install prometheus", executable(prometheusPath));
export const pythonGrpc = tool(
  "python3 with grpcio and grpc_tools",
  "apt-get install python3-grpcio python3-grpc-tools",
  () => spawnSync(pythonPath, ["-c", "import grpc, grpc_tools"], { stdio: "ignore" }).status === 0,
);
export const chromium = tool("chromium", "apt-get install chromium", executable(chromiumPath));
/** Where Debian's Go packages put their sources: the Go example builds against them in GOPATH mode, offline. */
export const debianGoSources = "/usr/share/gocode/src";
export const goGrpc = tool(
  "Go with Debian's gRPC and protobuf packages",
  "apt-get install golang-go golang-google-grpc-dev golang-google-protobuf-dev golang-github-golang-protobuf-1-5-dev " +
    "protoc-gen-go protoc-gen-go-grpc protobuf-compiler",
  () =>
    ["/usr/bin/go", "/usr/bin/protoc", "/usr/bin/protoc-gen-go", "/usr/bin/protoc-gen-go-grpc"].every(existsSync) &&
    // golang-google-grpc-dev is content with golang/protobuf 1.3; the example is built and tested with 1.5 (registry.go).
    ["google.golang.org/grpc", "google.golang.org/protobuf", "github.com/golang/protobuf/proto/registry.go"].every(
      (path) => existsSync(`${debianGoSources}/${path}`),
    ),
);

/** Where the nats-server program is looked for: `NATS_SERVER`, else the Debian package's path. */
export const natsServerPath = process.env["NATS_SERVER"] || "/usr/sbin/nats-server";
/** The nats-server program itself (to start a server of a test's own), and wget, which the nats image's healthcheck runs. */
export const natsServerProgram = tool(
  "nats-server and wget",
  "apt-get install nats-server wget",
  () => existsSync(natsServerPath) && existsSync("/usr/bin/wget"),
);

/** Where tests find NATS with JetStream: the server every machine of this project runs. */
export const natsUrl = "nats://127.0.0.1:4222";
/** Answers when a NATS server with JetStream greets us on 127.0.0.1:4222 (its INFO line says `"jetstream":true`). */
const natsProbe = `const s=require("net").connect(4222,"127.0.0.1");let b="";s.setTimeout(1500,()=>process.exit(1));
s.on("error",()=>process.exit(1));s.on("data",(d)=>{b+=d;if(b.includes("\\n")){process.exit(/"jetstream":true/.test(b)?0:1)}});`;
export const natsServer = tool(
  "nats-server",
  "apt-get install nats-server",
  () => spawnSync(process.execPath, ["-e", natsProbe], { stdio: "ignore", timeout: 3000 }).status === 0,
);

/** Whether tests needing all of `tools` must be skipped here (missing, and not in CI). */
function skipped(tools: readonly SystemTool[]): string | undefined {
  const missing = tools.filter((t) => !t.available);
  if (missing.length === 0 || systemToolsRequired) return undefined;
  const reason = `skipped: install ${missing.map((t) => `${t.name} (${t.install})`).join(", ")}`;
  console.warn(reason);
  return reason;
}

/**
 * `describe` for tests that need `tools`: runs them when installed; skips them with the install command in the
 * suite's name when not; and in CI (ESKIT_REQUIRE_SYSTEM_TOOLS=1) runs them anyway, so that they fail.
 */
export function describeWithTools(tools: readonly SystemTool[], name: string, body: () => void): void {
  const reason = skipped(tools);
  if (reason === undefined) describe(name, body);
  else describe.skip(`${name} (${reason})`, body);
}

/** `it` for one test that needs `tools`, with the same rules as {@link describeWithTools}. */
export function itWithTools(
  tools: readonly SystemTool[],
  name: string,
  body: () => Promise<void> | void,
  timeoutMs?: number,
): void {
  const reason = skipped(tools);
  if (reason === undefined) it(name, body, timeoutMs);
  else it.skip(`${name} (${reason})`, body, timeoutMs);
}
