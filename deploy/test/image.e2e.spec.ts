import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dropDatabase, freePort, freshDatabaseUrl } from "@eskit/test-kit/event-store.js";
import { itWithTools, natsServer, natsServerPath, natsServerProgram, natsUrl } from "@eskit/test-kit/system-tools.js";
import { connectNats, type BridgeConnection } from "@eskit/jetstream-bridge/bridge/nats-connection.js";
import { consumeJetStream } from "@eskit/jetstream-bridge/client/consume-jetstream.js";
import { silentLogger } from "@eskit/server-kit/logger.js";
import type { AppLogEntry } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import { layout } from "../image/bundle.js";
import { loadCompose, parsePort, repoRoot } from "./support/compose-file.js";
import { parseDockerfile } from "./support/dockerfile.js";
import { layOutTarget, runBundleStep, runToEnd, startTarget } from "./support/image-run.js";
import { eskitServices, type EskitService } from "./support/services.js";

// What `make deploy` would run, short of Docker: the Dockerfile's bundle step, each target's files as its COPY
// instructions lay them out, its CMD started with Compose's environment (service names pointing at this machine),
// Compose's and the image's healthchecks run against it, a document through the Crud Store, the Event Store, the
// Metrics Consumer and (on this machine's NATS) the JetStream bridge onto its stream, and `docker stop`'s SIGTERM. On PostgreSQL when DATABASE_URL is set (as in Compose), else on the PGlite the image falls back to.
// Access control is on, configured the Compose way: one token in the shell's ESKIT_AUTH_TOKENS and EVENT_STORE_TOKEN.
// The console's image likewise: its files laid out, its CMD started, its page, assets and config.json served.

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
/** What this file starts: the services and the console. */
type Target = EskitService | "console";
const ports = new Map<Target, number>();
const started = new Map<Target, Started>();
/**
 * The bridge's stream and subject prefix: the test's own on this machine's NATS, which other tests share (Compose's
 * NATS is the deployment's alone, so Compose leaves both at their defaults); deleted afterwards.
 */
const tag = randomBytes(5).toString("hex");
const bridgeStream = {
  JETSTREAM_STREAM: `ESKIT_IMAGE_TEST_${tag}`,
  JETSTREAM_SUBJECT_PREFIX: `eskit.imagetest.${tag}`,
};
let nats: BridgeConnection | undefined;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "eskit-image-"));
  // Node looks for packages in every node_modules up the tree: with one above, a package missing from an image
  // would be found anyway and this test would prove nothing.
  for (let dir = work; dir !== dirname(dir); dir = dirname(dir))
    expect(existsSync(join(dirname(dir), "node_modules")), dir).toBe(false);
  await runBundleStep(dockerfile, join(work, "build"));
  for (const service of [...eskitServices, "console" as const]) {
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
  if (nats !== undefined) {
    // JetStream's API by request: the deletion takes the stream's consumers with it.
    await nats.nc.request(`$JS.API.STREAM.DELETE.${bridgeStream.JETSTREAM_STREAM}`).catch(() => undefined);
    await nats.nc.close();
  }
  if (databaseUrl !== undefined) await dropDatabase(databaseUrl);
  if (work !== "") await rm(work, { recursive: true, force: true });
});

/**
 * Compose's environment of `service` as seen from this machine: `http://<service>:<port>` URLs point at the test's
 * ports, `nats://nats:4222` at this machine's NATS, PORT is the test's, DATABASE_URL the test's PostgreSQL (left out
 * on PGlite), and the bridge writes to the test's own stream.
 */
function environmentOf(service: Target): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(compose.services[service]?.environment ?? {})) {
    env[key] = value.replace(/http:\/\/([a-z-]+):(\d+)/gu, (url, name: string) => {
      const port = ports.get(name as EskitService);
      return port === undefined ? url : `http://127.0.0.1:${port}`;
    });
  }
  delete env["DATABASE_URL"];
  if (service === "event-store" && databaseUrl !== undefined) env["DATABASE_URL"] = databaseUrl;
  if (env["NATS_URL"] !== undefined) {
    expect(env["NATS_URL"]).toMatch(/^nats:\/\/nats:\d+$/u);
    env["NATS_URL"] = natsUrl;
    Object.assign(env, bridgeStream);
  }
  return { ...env, PORT: String(ports.get(service)), HOST: "127.0.0.1" };
}

/** Compose's healthcheck of `service`, aimed at the test's port; resolves to its exit code. */
async function composeHealthcheck(service: Target): Promise<number | null> {
  const [kind, command, ...args] = compose.services[service]?.healthcheck?.test ?? [];
  expect([kind, command]).toEqual(["CMD", "node"]);
  const script = (args.at(-1) ?? "").replace(/127\.0\.0\.1:\d+/u, `127.0.0.1:${ports.get(service)}`);
  return (await runToEnd(process.execPath, [...args.slice(0, -1), script], work)).code;
}

/** The image's own HEALTHCHECK of `service` (it reads the container's PORT). */
async function imageHealthcheck(service: Target): Promise<number | null> {
  const healthcheck = dockerfile.stages
    .find((s) => s.name === service)
    ?.instructions.find((i) => i.keyword === "HEALTHCHECK");
  const [, ...args] = JSON.parse(healthcheck?.args.replace(/^CMD\s+/u, "") ?? "[]") as string[];
  return (await runToEnd(process.execPath, args, work, { PATH: process.env["PATH"], PORT: String(ports.get(service)) }))
    .code;
}

async function start(service: Target): Promise<void> {
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
    expect(await readdir(join(work, "jetstream-bridge/app"))).toEqual(["node_modules", "services"]);
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

  // In Compose's order: each one once what it depends on is healthy. The bridge is healthy once NATS is connected,
  // so it needs one: this machine's.
  for (const service of eskitServices) {
    const name = `starts ${service} from its CMD with Compose's environment, healthy by Compose's and the image's healthchecks`;
    if (service === "jetstream-bridge") itWithTools([natsServer], name, () => start(service), 90_000);
    else it(name, () => start(service), 90_000);
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

  itWithTools(
    [natsServer],
    "puts the document's event on the bridge's stream, read back as a consumer reads it",
    async () => {
      nats = await connectNats(natsUrl, "eskit-image-test", silentLogger, AbortSignal.timeout(10_000));
      if (nats === undefined) throw new Error(`no NATS at ${natsUrl}`);
      const entries: AppLogEntry[] = [];
      const stop = new AbortController();
      const timeout = setTimeout(() => stop.abort(), 20_000);
      try {
        await consumeJetStream(
          nats.nc,
          {
            stream: bridgeStream.JETSTREAM_STREAM,
            subjectPrefix: bridgeStream.JETSTREAM_SUBJECT_PREFIX,
            durable: "image-test",
          },
          (entry) => {
            entries.push(entry);
            stop.abort();
          },
          { signal: stop.signal },
        );
      } finally {
        clearTimeout(timeout);
      }
      // The Crud Store's first write to this store, so the log's first entry.
      expect(entries.map((e) => [e.id, e.event?.eventType, e.event?.originator?.id])).toEqual([
        [1n, "acme.Pet.Created", "rex"],
      ]);
    },
    30_000,
  );

  it("starts the console from its CMD with Compose's environment, healthy by Compose's and the image's healthchecks", async () => {
    await start("console");
  }, 60_000);

  it("holds in the console image only the server's bundle and the built files, which it serves with Compose's URLs", async () => {
    expect(await readdir(join(work, "console/app"))).toEqual(["console"]);
    expect((await readdir(join(work, "console/app/console"))).sort()).toEqual(
      [basename(layout.consoleBundle), basename(layout.consoleFiles)].sort(),
    );
    const url = `http://127.0.0.1:${ports.get("console")}`;
    const page = await fetch(`${url}/`);
    const html = await page.text();
    expect([page.status, page.headers.get("content-type")]).toEqual([200, "text/html; charset=utf-8"]);
    expect(html).toContain("<title>ESKIT console</title>");
    const script = /<script type="module"[^>]* src="\.\/(assets\/[^"]+\.js)"/u.exec(html)?.[1];
    if (script === undefined) throw new Error(`the page loads no script:\n${html}`);
    const asset = await fetch(`${url}/${script}`);
    expect([asset.status, asset.headers.get("content-type"), asset.headers.get("cache-control")]).toEqual([
      200,
      "text/javascript; charset=utf-8",
      "public, max-age=31536000, immutable",
    ]);
    expect((await asset.text()).length).toBeGreaterThan(1000);
    const environment = compose.services["console"]?.environment ?? {};
    expect(await (await fetch(`${url}/config.json`)).json()).toEqual({
      eventStoreUrl: environment["CONSOLE_EVENT_STORE_URL"],
      crudStoreUrl: environment["CONSOLE_CRUD_STORE_URL"],
    });
  });

  it("lets the console's origin call the services from a browser (their CORS, as Compose configures it)", async () => {
    // The console's origin as a browser on the host sees it: the port Compose publishes it on.
    const published = (compose.services["console"]?.ports ?? []).map(parsePort)[0]?.published;
    const origin = `http://127.0.0.1:${published}`;
    const paths = {
      "event-store": "/eskit.eventstore.v1.EventStoreService/GetHead",
      "crud-store": "/eskit.crudstore.v1.CrudStoreService/Get",
    } as const;
    for (const [service, path] of Object.entries(paths) as Array<[keyof typeof paths, string]>) {
      const preflight = await fetch(`http://127.0.0.1:${ports.get(service)}${path}`, {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization,content-type,x-grpc-web",
        },
      });
      expect([preflight.status, preflight.headers.get("access-control-allow-origin")], service).toEqual([204, origin]);
      expect(preflight.headers.get("access-control-allow-headers")?.toLowerCase(), service).toContain("authorization");
    }
  });

  it("stops each service with exit code 0 on SIGTERM, as `docker stop` sends it", async () => {
    for (const service of ["console" as const, ...[...eskitServices].reverse()]) {
      const running = started.get(service);
      // Not started where its start was skipped (no NATS here, outside CI).
      if (running === undefined && service === "jetstream-bridge" && !natsServer.available) continue;
      if (running === undefined) throw new Error(`${service} did not start`);
      running.child.kill("SIGTERM");
      expect(await running.exited, `${service}:\n${running.output()}`).toBe(0);
    }
  }, 60_000);
});

describe("the nats service, played with this machine's nats-server", () => {
  // Compose runs the official image (nats-server 2.14 on alpine); here the Debian package's nats-server runs the same
  // command line, and GNU wget stands in for BusyBox's in the healthcheck (both take -q and --spider).
  itWithTools(
    [natsServerProgram],
    "starts JetStream with its store in the volume's directory, healthy by Compose's healthcheck",
    async () => {
      const nats = compose.services["nats"];
      const store = join(work, "nats-data");
      const monitorPort = await freePort();
      const clientPort = await freePort();
      // The command as the image's entrypoint gets it (it prepends nats-server), the store directory and monitoring
      // port moved to the test's, and the client port a free one on loopback (4222 is this machine's NATS).
      const args = (nats?.command ?? []).map((arg, i, all) =>
        all[i - 1] === "-sd" ? store : all[i - 1] === "-m" ? String(monitorPort) : arg,
      );
      expect(args).toContain(store);
      expect(args).toContain(String(monitorPort));
      const child = spawn(natsServerPath, [...args, "-a", "127.0.0.1", "-p", String(clientPort)], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      try {
        const [kind, command, ...healthArgs] = nats?.healthcheck?.test ?? [];
        expect([kind, command]).toEqual(["CMD", "wget"]);
        const healthcheck = healthArgs.map((a) => a.replace(/^(http:\/\/127\.0\.0\.1:)\d+/u, `$1${monitorPort}`));
        let code: number | null = null;
        for (
          const deadline = Date.now() + 20_000;
          Date.now() < deadline;
          await new Promise((r) => setTimeout(r, 250))
        ) {
          if (child.exitCode !== null) throw new Error(`nats-server exited:\n${output}`);
          code = (await runToEnd("/usr/bin/wget", healthcheck, work)).code;
          if (code === 0) break;
        }
        expect(code, output).toBe(0);
        // JetStream is on, and keeps its data under the directory the volume is mounted on.
        const jsz = (await (await fetch(`http://127.0.0.1:${monitorPort}/jsz`)).json()) as {
          config?: { store_dir?: string };
        };
        expect(jsz.config?.store_dir).toBe(join(store, "jetstream"));
        expect(await readdir(store)).toEqual(["jetstream"]);
      } finally {
        child.kill("SIGTERM");
        await exited;
      }
    },
    30_000,
  );
});
