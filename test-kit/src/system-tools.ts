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
export function itWithTools(tools: readonly SystemTool[], name: string, body: () => Promise<void> | void): void {
  const reason = skipped(tools);
  if (reason === undefined) it(name, body);
  else it.skip(`${name} (${reason})`, body);
}
