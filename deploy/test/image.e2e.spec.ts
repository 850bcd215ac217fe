import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dropDatabase, freePort, freshDatabaseUrl } from "@eskit/test-kit/event-store.js";
import { layout } from "../image/bundle.js";
import { loadCompose, repoRoot } from "./support/compose-file.js";
import { parseDockerfile } from "./support/dockerfile.js";
import { layOutTarget, runBundleStep, runToEnd, startTarget } from "./support/image-run.js";
import { eskitServices, type EskitService } from "./support/services.js";

// What `make deploy` would run, short of Docker: the Dockerfile's bundle step, each target's files as its COPY
// instructions lay them out, its CMD started with Compose's environment (service names pointing at this machine),
// Compose's and the image's healthchecks run against it, a document through all three services, and `docker stop`'s
// SIGTERM. On PostgreSQL when DATABASE_URL is set (as in Compose), else on the PGlite the image falls back to.
// Access control is on, configured the Compose way: one token in the shell's ESKIT_AUTH_TOKENS and EVENT_STORE_TOKEN.

const token = "deploy-test-token-0123456789";
const dockerfile = parseDockerfile();
const compose = loadCompose({ ESKIT_AUTH_TOKENS: token, EVENT_STORE_TOKEN: token });

interface Started {
  child: ChildProcess;
  port: number;
  output: () => string;
  exited: Promise<number | null>;
}

let work = "";
let databaseUrl: string | undefined;
const ports = new Map<EskitService, number>();
const started = new Map<EskitService, Started>();

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "eskit-image-"));
  // Node looks for packages in every node_modules up the tree: with one above, a package missing from an image
  // would be found anyway and this test would prove nothing.
  for (let dir = work; dir !== dirname(dir); dir = dirname(dir))
    expect(existsSync(join(dirname(dir), "node_modules")), dir).toBe(false);
  await runBundleStep(dockerfile, join(work, "build"));
  for (const service of eskitServices) {
    await layOutTarget(dockerfile, service, join(work, "build"), join(work, service));
    ports.set(service, await freePort());
  }
  databaseUrl = process.env["DATABASE_URL"] ? await freshDatabaseUrl() : undefined;
}, 120_000);

afterAll(async () => {
  for (const { child, exited } of started.values()) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
  }
  if (databaseUrl !== undefined) await dropDatabase(databaseUrl);
  if (work !== "") await rm(work, { recursive: true, force: true });
});

/**
 * Compose's environment of `service` as seen from this machine: `http://<service>:<port>` URLs point at the test's
 * ports, PORT is the test's, and DATABASE_URL the test's PostgreSQL (left out on PGlite).
 */
function environmentOf(service: EskitService): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(compose.services[service]?.environment ?? {})) {
    env[key] = value.replace(/http:\/\/([a-z-]+):(\d+)/gu, (url, name: string) => {
      const port = ports.get(name as EskitService);
      return port === undefined ? url : `http://127.0.0.1:${port}`;
    });
  }
  delete env["DATABASE_URL"];
  if (service === "event-store" && databaseUrl !== undefined) env["DATABASE_URL"] = databaseUrl;
  return { ...env, PORT: String(ports.get(service)), HOST: "127.0.0.1" };
}

/** Compose's healthcheck of `service`, aimed at the test's port; resolves to its exit code. */
async function composeHealthcheck(service: EskitService): Promise<number | null> {
  const [kind, command, ...args] = compose.services[service]?.healthcheck?.test ?? [];
  expect([kind, command]).toEqual(["CMD", "node"]);
  const script = (args.at(-1) ?? "").replace(/127\.0\.0\.1:\d+/u, `127.0.0.1:${ports.get(service)}`);
  return (await runToEnd(process.execPath, [...args.slice(0, -1), script], work)).code;
}

/** The image's own HEALTHCHECK of `service` (it reads the container's PORT). */
async function imageHealthcheck(service: EskitService): Promise<number | null> {
  const healthcheck = dockerfile.stages
    .find((s) => s.name === service)
    ?.instructions.find((i) => i.keyword === "HEALTHCHECK");
  const [, ...args] = JSON.parse(healthcheck?.args.replace(/^CMD\s+/u, "") ?? "[]") as string[];
  return (await runToEnd(process.execPath, args, work, { PATH: process.env["PATH"], PORT: String(ports.get(service)) }))
    .code;
}

async function start(service: EskitService): Promise<void> {
  const child = startTarget(dockerfile, service, join(work, service), environmentOf(service));
  let output = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  started.set(service, { child, port: ports.get(service) as number, output: () => output, exited });
  let dead = false;
  void exited.then(() => (dead = true));
  for (const deadline = Date.now() + 60_000; ; await new Promise((r) => setTimeout(r, 250))) {
    if (dead) throw new Error(`${service} exited during start-up:\n${output}`);
    if ((await composeHealthcheck(service)) === 0) break;
    if (Date.now() > deadline) throw new Error(`${service} was not healthy within 60 s:\n${output}`);
  }
  expect(await imageHealthcheck(service), `${service}: the image's HEALTHCHECK`).toBe(0);
}

describe("the service images, played without Docker", () => {
  it("hold beside the bundles only koffi with its binary (every image) and PGlite with the migrations (the Event Store's), at the versions the services depend on", async () => {
    const out = join(work, "build", "out");
    const manifest = async (dir: string) =>
      JSON.parse(await readFile(join(dir, "package.json"), "utf8")) as {
        version: string;
        dependencies: Record<string, string>;
        optionalDependencies: Record<string, string>;
      };
    const binary = `koffi-${process.platform}-${process.arch}`;
    expect(await readdir(join(out, layout.nodeModules))).toEqual(["@koromix", "koffi"]);
    expect(await readdir(join(out, layout.nodeModules, "@koromix"))).toEqual([binary]);
    const koffi = await manifest(join(out, layout.nodeModules, "koffi"));
    expect((await manifest(join(repoRoot, "server-kit"))).dependencies["koffi"]).toBe(koffi.version);
    expect(koffi.optionalDependencies[`@koromix/${binary}`]).toBe(koffi.version);
    expect(await readdir(join(out, layout.serviceModules("event-store")))).toEqual(["@electric-sql"]);
    expect(await readdir(join(out, layout.serviceModules("event-store"), "@electric-sql"))).toEqual(["pglite"]);
    const pglite = await manifest(join(out, layout.serviceModules("event-store"), "@electric-sql/pglite"));
    expect((await manifest(join(repoRoot, "event-store"))).dependencies["@electric-sql/pglite"]).toBe(pglite.version);
    expect(
      (await readdir(join(work, "event-store/app/migrations"))).filter((f) => f.endsWith(".sql")).length,
    ).toBeGreaterThan(0);
    expect(await readdir(join(work, "crud-store/app"))).toEqual(["node_modules", "services"]);
    expect(await readdir(join(work, "metrics-consumer/app"))).toEqual(["node_modules", "services"]);
  });

  it("lets every service's bundle load koffi and call into the C library, as its heap trimming does", async () => {
    for (const service of eskitServices) {
      const script =
        "import('koffi').then((k) => { k.default.load('libc.so.6').func('int getpid()'); process.stdout.write('ok'); })";
      const run = await runToEnd(
        process.execPath,
        ["--input-type=module", "-e", script],
        join(work, service, "app", dirname(layout.bundle(service))),
      );
      expect(run, service).toEqual({ code: 0, output: "ok" });
    }
  });

  // In Compose's order: each one once what it depends on is healthy.
  for (const service of eskitServices) {
    it(`starts ${service} from its CMD with Compose's environment, healthy by Compose's and the image's healthchecks`, async () => {
      await start(service);
    }, 90_000);
  }

  it("carries a document through the three bundles: Crud Store, Event Store, Metrics Consumer", async () => {
    const crud = `http://127.0.0.1:${ports.get("crud-store")}/eskit.crudstore.v1.CrudStoreService`;
    const create = (headers: Record<string, string>) =>
      fetch(`${crud}/Create`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({
          entityType: "acme.Pet",
          originator: { id: "rex" },
          payload: JSON.stringify({ name: "Rex" }),
        }),
      });
    expect(((await (await create({})).json()) as { code: string }).code).toBe("unauthenticated");
    // The Crud Store writes to the Event Store with EVENT_STORE_TOKEN, the Metrics Consumer saves its offset with it.
    expect(await (await create({ authorization: `Bearer ${token}` })).json()).toEqual({
      originator: { id: "rex", version: "1" },
    });
    const metricsUrl = `http://127.0.0.1:${ports.get("metrics-consumer")}/metrics`;
    let metrics = "";
    for (const deadline = Date.now() + 20_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
      metrics = await (await fetch(metricsUrl)).text();
      if (/^eskit_events_store_total\{[^}]*entity_type="acme\.Pet"[^}]*\} 1$/mu.test(metrics)) break;
    }
    expect(metrics).toMatch(
      /^eskit_events_store_total\{(?=[^}]*entity_type="acme\.Pet")(?=[^}]*event_type="Created")[^}]*\} 1$/mu,
    );
  }, 30_000);

  it("stops each service with exit code 0 on SIGTERM, as `docker stop` sends it", async () => {
    for (const service of [...eskitServices].reverse()) {
      const running = started.get(service);
      if (running === undefined) throw new Error(`${service} did not start`);
      running.child.kill("SIGTERM");
      expect(await running.exited, `${service}:\n${running.output()}`).toBe(0);
    }
  }, 60_000);
});
