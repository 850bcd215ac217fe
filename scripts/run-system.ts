// `make run`: the whole system in one terminal. Starts the Event Store, waits until it is healthy, then the Crud Store
// and the Metrics Consumer pointed at it, prints their URLs, and on Ctrl-C (SIGINT) or SIGTERM stops them in reverse order, each cleanly.
// If one service dies, the others are stopped and the exit code is non-zero. Every other variable (DATABASE_URL,
// LOG_LEVEL, ...) is passed through to the services.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
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
const eventStoreUrl = process.env["EVENT_STORE_URL"] ?? `http://127.0.0.1:${eventStorePort}`;
// With access control on, the Crud Store and the Metrics Consumer need a token for the Event Store (and the consumer
// one for the Crud Store): unless one is given, they use the first full token. A bad list is left to the services,
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
];

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

const running: Array<{ service: Service; child: ChildProcess; exited: Promise<number | null> }> = [];
let stopping = false;

async function stopAll(code: number): Promise<never> {
  stopping = true;
  for (const { child, exited } of [...running].reverse()) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  }
  process.exit(code);
}

async function waitHealthy(service: Service, exited: Promise<number | null>): Promise<void> {
  const url = `http://127.0.0.1:${service.port}/healthz`;
  let dead = false;
  void exited.then(() => (dead = true));
  for (const deadline = Date.now() + 120_000; Date.now() < deadline && !dead; await sleep(200)) {
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
  }
  throw new Error(
    dead
      ? `${service.name} exited during start-up (see its log above)`
      : `${service.name} is not healthy at ${url} after 120 s`,
  );
}

process.on("SIGINT", () => void stopAll(0));
process.on("SIGTERM", () => void stopAll(0));

for (const service of services) {
  const child = spawn(process.execPath, ["--import", "tsx", service.entry], {
    env: { ...allocatorEnv, ...process.env, ...service.env, PORT: service.port, HOST: process.env["HOST"] ?? host },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  running.push({ service, child, exited });
  void exited.then((code) => {
    if (stopping) return;
    process.stderr.write(`eskit: ${service.name} exited (code ${code}); stopping the others\n`);
    void stopAll(1);
  });
  try {
    await waitHealthy(service, exited);
  } catch (error) {
    process.stderr.write(`eskit: ${(error as Error).message}\n`);
    await stopAll(1);
  }
}
process.stderr.write(
  `\nESKIT is up (Ctrl-C stops it):\n` +
    services.map((s) => `  ${s.name.padEnd(17)} http://127.0.0.1:${s.port}\n`).join("") +
    `  ${"metrics".padEnd(17)} http://127.0.0.1:${metricsConsumerPort}/metrics\n` +
    "\n",
);
