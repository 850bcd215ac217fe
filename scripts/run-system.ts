// `make run`: the whole system in one terminal. Starts the Event Store, waits until it is healthy, then the Crud Store
// and the Metrics Consumer pointed at it, then, when NATS_URL is set, the JetStream bridge (the log onto a JetStream
// stream of that NATS), then the web console (built meanwhile into a temporary directory, served with a config.json
// naming the two stores), prints their URLs, and on Ctrl-C (SIGINT) or SIGTERM stops them in reverse order, each
// cleanly. If one service dies, the others are stopped and the exit code is non-zero. The console is an extra: when
// it cannot be built or served, it says why and the services run without it. Every other variable (DATABASE_URL,
// LOG_LEVEL, ...) is passed through to the services and the console.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { buildConsole } from "../console/server/build-console.js";
import { configDocs as bridgeConfigDocs } from "../jetstream-bridge/src/config.js";
import { parseTokenFile, parseTokenList } from "../server-kit/src/auth/token-list.js";
import { allocatorEnv } from "../server-kit/src/memory/allocator-env.js";

interface Service {
  name: string;
  entry: string;
  port: string;
  env: Record<string, string>;
}

const host = process.env["ESKIT_HOST"] ?? "127.0.0.1";
const eventStorePort = process.env["ESKIT_EVENT_STORE_PORT"] ?? "8081";
const crudStorePort = process.env["ESKIT_CRUD_STORE_PORT"] ?? "8082";
const metricsConsumerPort = process.env["ESKIT_METRICS_CONSUMER_PORT"] ?? "8083";
const consolePort = process.env["ESKIT_CONSOLE_PORT"] ?? "8080";
const bridgePort = process.env["ESKIT_JETSTREAM_BRIDGE_PORT"] ?? "8084";
// The bridge is opt-in: it needs a NATS server with JetStream, which `make run` does not start.
const natsUrl = process.env["NATS_URL"]?.trim() || undefined;
const eventStoreUrl = process.env["EVENT_STORE_URL"] ?? `http://127.0.0.1:${eventStorePort}`;
// With access control on, the Crud Store, the Metrics Consumer and the bridge need a token for the Event Store (and
// the consumer one for the Crud Store): unless one is given, they use the first full token. A bad list is left to the services,
// which refuse to start and say why.
const peerToken = process.env["EVENT_STORE_TOKEN"] || process.env["EVENT_STORE_TOKEN_FILE"] ? {} : firstFullToken();
const services: Service[] = [
  { name: "event-store", entry: "event-store/src/main.ts", port: eventStorePort, env: {} },
  {
    name: "crud-store",
    entry: "crud-store/src/main.ts",
    port: crudStorePort,
    env: { EVENT_STORE_URL: eventStoreUrl, ...peerToken },
  },
  {
    name: "metrics-consumer",
    entry: "metrics-consumer/src/main.ts",
    port: metricsConsumerPort,
    env: {
      EVENT_STORE_URL: eventStoreUrl,
      CRUD_STORE_URL: process.env["CRUD_STORE_URL"] ?? `http://127.0.0.1:${crudStorePort}`,
      ...peerToken,
    },
  },
  ...(natsUrl === undefined
    ? []
    : [
        {
          name: "jetstream-bridge",
          entry: "jetstream-bridge/src/main.ts",
          port: bridgePort,
          // A CONSUMER_ID of the shell is the Metrics Consumer's: the bridge keeps its own, so that the two never
          // share (and move) one saved offset.
          env: { EVENT_STORE_URL: eventStoreUrl, CONSUMER_ID: bridgeDefault("CONSUMER_ID"), ...peerToken },
        },
      ]),
];

/** The bridge's documented default of `variable` (its config.ts). */
function bridgeDefault(variable: string): string {
  const doc = bridgeConfigDocs.find((d) => d.name === variable);
  if (doc === undefined) throw new Error(`the JetStream bridge reads no ${variable}`);
  return doc.default;
}

function firstFullToken(): { EVENT_STORE_TOKEN?: string } {
  const list = process.env["ESKIT_AUTH_TOKENS"]?.trim();
  const file = process.env["ESKIT_AUTH_TOKENS_FILE"]?.trim();
  let tokens: string[] = [];
  try {
    if (list) tokens = parseTokenList(list, "ESKIT_AUTH_TOKENS").tokens;
    else if (file) tokens = parseTokenFile(readFileSync(file, "utf8"), "ESKIT_AUTH_TOKENS_FILE").tokens;
  } catch {
    // An unreadable file: the Event Store reports it.
  }
  return tokens[0] === undefined ? {} : { EVENT_STORE_TOKEN: tokens[0] };
}

/**
 * The summary's lines for the bridge: where it and its metrics are, and which stream of which NATS it writes (the
 * URL without credentials); or that it is off and how to turn it on.
 */
function bridgeLines(): { service: string; metrics: string } {
  if (natsUrl === undefined)
    return {
      service: "off: set NATS_URL to publish the log to NATS JetStream (NATS_URL=nats://127.0.0.1:4222 make run)",
      metrics: "",
    };
  const stream = process.env["JETSTREAM_STREAM"] || bridgeDefault("JETSTREAM_STREAM");
  const nats = natsUrl.replace(/\/\/[^/@,]*@/gu, "//");
  return {
    service: `http://127.0.0.1:${bridgePort} (the log onto stream ${stream} of ${nats})`,
    metrics: `  ${"bridge metrics".padEnd(17)} http://127.0.0.1:${bridgePort}/metrics\n`,
  };
}

/** The console's environment: its port, and the two stores as the browser reaches them (its config.json). */
const consoleEnv = {
  PORT: consolePort,
  CONSOLE_EVENT_STORE_URL: process.env["CONSOLE_EVENT_STORE_URL"] || `http://127.0.0.1:${eventStorePort}`,
  CONSOLE_CRUD_STORE_URL: process.env["CONSOLE_CRUD_STORE_URL"] || `http://127.0.0.1:${crudStorePort}`,
};

const running: Array<{ name: string; child: ChildProcess; exited: Promise<number | null> }> = [];
let stopping = false;
/** Stops the console's build when the system stops before it is done. */
const consoleBuild = new AbortController();
let consoleDir: string | undefined;

/**
 * The console built into a directory of its own (removed on stop), so that neither a build of yours in console/dist
 * nor another `make run` swaps the files under this one. Undefined, after saying why, when it cannot be built.
 */
async function buildConsoleDir(): Promise<string | undefined> {
  try {
    consoleDir = await mkdtemp(join(tmpdir(), "eskit-console-"));
    await buildConsole(consoleDir, { signal: consoleBuild.signal });
    return consoleDir;
  } catch (error) {
    if (!stopping) {
      process.stderr.write(
        `eskit: the console could not be built (${(error as Error).message}; vite's messages are above); ` +
          "the services run without it\n",
      );
    }
    return undefined;
  }
}

async function stopAll(code: number): Promise<never> {
  stopping = true;
  consoleBuild.abort();
  for (const { child, exited } of [...running].reverse()) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  }
  await consoleBuilt;
  if (consoleDir !== undefined) await rm(consoleDir, { recursive: true, force: true });
  process.exit(code);
}

/** Starts `node --import tsx <entry>` with this environment and `env`, its output on this terminal. */
function startProcess(name: string, entry: string, env: Record<string, string>) {
  const child = spawn(process.execPath, ["--import", "tsx", entry], {
    env: { ...allocatorEnv, ...process.env, ...env, HOST: process.env["HOST"] ?? host },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  running.push({ name, child, exited });
  return { child, exited };
}

/** Resolves once `ready` says so; rejects when the process exits first or `timeoutMs` passes. */
async function waitReady(
  name: string,
  url: string,
  ready: () => Promise<boolean>,
  exited: Promise<number | null>,
  timeoutMs: number,
): Promise<void> {
  let dead = false;
  void exited.then(() => (dead = true));
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline && !dead; await sleep(200)) {
    if (await ready().catch(() => false)) return;
  }
  throw new Error(
    dead
      ? `${name} exited during start-up (see its log above)`
      : `${name} is not healthy at ${url} after ${timeoutMs / 1000} s`,
  );
}

/**
 * Serves the built console and returns what the summary shows for it: its URL, or why there is none. Ready once its
 * config.json is this run's, so that another console on the port (a `make run` of yours) is not taken for it.
 */
async function startConsole(): Promise<string> {
  const root = await consoleBuilt;
  if (root === undefined) return "not served: its build failed (see above)";
  // A stop that came meanwhile has already stopped what it found running: start nothing more.
  if (stopping) return "stopping";
  const url = `http://127.0.0.1:${consolePort}`;
  const { child, exited } = startProcess("console", "console/server/main.ts", { ...consoleEnv, CONSOLE_ROOT: root });
  const expected = JSON.stringify({
    eventStoreUrl: consoleEnv.CONSOLE_EVENT_STORE_URL,
    crudStoreUrl: consoleEnv.CONSOLE_CRUD_STORE_URL,
  });
  const ready = async () => {
    const health = await fetch(`${url}/healthz`);
    await health.arrayBuffer();
    return health.ok && (await (await fetch(`${url}/config.json`)).text()) === expected;
  };
  try {
    await waitReady("console", url, ready, exited, 30_000);
  } catch (error) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
    if (stopping) return "stopping";
    process.stderr.write(
      `eskit: the console is not served: ${(error as Error).message}. Is port ${consolePort} taken? ` +
        "ESKIT_CONSOLE_PORT picks another. The services run without it\n",
    );
    return "not served (see above)";
  }
  void exited.then((code) => {
    if (!stopping) process.stderr.write(`eskit: console exited (code ${code}); the services keep running\n`);
  });
  return url;
}

// Built while the services start: it takes about a second, the Event Store longer.
const consoleBuilt = buildConsoleDir();

process.on("SIGINT", () => void stopAll(0));
process.on("SIGTERM", () => void stopAll(0));

for (const service of services) {
  const { exited } = startProcess(service.name, service.entry, { ...service.env, PORT: service.port });
  void exited.then((code) => {
    if (stopping) return;
    process.stderr.write(`eskit: ${service.name} exited (code ${code}); stopping the others\n`);
    void stopAll(1);
  });
  const url = `http://127.0.0.1:${service.port}/healthz`;
  try {
    await waitReady(service.name, url, async () => (await fetch(url)).ok, exited, 120_000);
  } catch (error) {
    // The bridge is healthy once connected to NATS: the likeliest cause is a NATS_URL nothing answers at.
    const hint =
      service.name === "jetstream-bridge" ? " (does a NATS server with JetStream answer at NATS_URL? see its log)" : "";
    process.stderr.write(`eskit: ${(error as Error).message}${hint}\n`);
    await stopAll(1);
  }
}
const consoleLine = await startConsole();
const bridge = bridgeLines();
process.stderr.write(
  `\nESKIT is up (Ctrl-C stops it):\n` +
    services
      .filter((s) => s.name !== "jetstream-bridge")
      .map((s) => `  ${s.name.padEnd(17)} http://127.0.0.1:${s.port}\n`)
      .join("") +
    `  ${"jetstream-bridge".padEnd(17)} ${bridge.service}\n` +
    `  ${"metrics".padEnd(17)} http://127.0.0.1:${metricsConsumerPort}/metrics\n` +
    bridge.metrics +
    `  ${"console".padEnd(17)} ${consoleLine}\n` +
    "\n",
);
