import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import {
  composePath,
  loadCompose,
  parseCompose,
  parsePort,
  parseVolume,
  interpolate,
  repoRoot,
  type ComposeService,
} from "./support/compose-file.js";
import { composeValidator } from "./support/compose-schema.js";
import { parseDockerfile } from "./support/dockerfile.js";
import {
  configDocsOf,
  consoleConfigDocs,
  defaultOf,
  durationMs,
  eskitServices,
  type EskitService,
} from "./support/services.js";

// compose.yaml cannot be run here (no Docker engine), so it is checked against what can be read: the Compose
// Specification's schema, the files it mounts, and the code of the services it runs.

const composeText = readFileSync(composePath, "utf8");
const compose = loadCompose();
const validate = composeValidator();
/** Every variable compose.yaml interpolates. */
const variables = [...new Set([...composeText.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/gu)].map((m) => m[1] as string))];

function service(name: string): ComposeService {
  const found = compose.services[name];
  if (found === undefined) throw new Error(`compose.yaml has no service ${name}`);
  return found;
}

/** The URL of an exec-form healthcheck `node -e "fetch('...')..."`. */
function healthcheckUrl(name: string): URL {
  const test = service(name).healthcheck?.test ?? [];
  expect(test.slice(0, 3), `${name}'s healthcheck runs node`).toEqual(["CMD", "node", "-e"]);
  const url = /fetch\('([^']+)'\)/u.exec(test[3] ?? "")?.[1];
  if (url === undefined) throw new Error(`${name}'s healthcheck fetches no URL: ${test.join(" ")}`);
  return new URL(url);
}

/** The value after `flag` in the nats service's command (`-sd /data` → "/data"). */
function natsFlag(flag: string): string {
  const command = service("nats").command ?? [];
  const at = command.indexOf(flag);
  const value = at < 0 ? undefined : command[at + 1];
  if (value === undefined || value.startsWith("-"))
    throw new Error(`nats's command has no ${flag} <value>: ${command.join(" ")}`);
  return value;
}

/** The container port a service (or the console) listens on: its PORT as Compose sets it, else its default. */
function listenPort(name: EskitService | "console"): number {
  return Number(service(name).environment?.["PORT"] ?? defaultOf(name, "PORT"));
}

describe("compose.yaml against the Compose Specification", () => {
  it("is valid, with no variable set and with every variable it reads set", () => {
    expect(validate(compose)).toEqual([]);
    const everything = {
      ESKIT_BIND: "0.0.0.0",
      ESKIT_EVENT_STORE_PORT: "18081",
      ESKIT_CRUD_STORE_PORT: "18082",
      ESKIT_METRICS_CONSUMER_PORT: "18083",
      ESKIT_JETSTREAM_BRIDGE_PORT: "18084",
      ESKIT_NATS_PORT: "14222",
      ESKIT_CONSOLE_PORT: "18080",
      ESKIT_PUBLIC_HOST: "eskit.example.org",
      ESKIT_PROMETHEUS_PORT: "19090",
      ESKIT_GRAFANA_PORT: "13000",
      POSTGRES_PASSWORD: "s3cret",
      GRAFANA_ADMIN_PASSWORD: "pw",
      LOG_LEVEL: "debug",
      ESKIT_AUTH_TOKENS: "full-token-0123456789",
      ESKIT_READ_TOKENS: "read-token-0123456789",
      EVENT_STORE_TOKEN: "full-token-0123456789",
    };
    expect(Object.keys(everything).sort()).toEqual([...variables].sort());
    expect(validate(loadCompose(everything))).toEqual([]);
  });

  it("reads no variable the README does not document", () => {
    const section = readFileSync(join(repoRoot, "docs/deployment.md"), "utf8");
    expect(section.startsWith("# Deploying with Docker Compose\n"), "docs/deployment.md is the page").toBe(true);
    for (const name of variables) expect(section, `README documents ${name}`).toContain(`\`${name}\``);
  });

  // Each edit breaks the file in one way `docker compose` refuses; the schema must refuse it too.
  const breakages: Array<[string, string, string, RegExp]> = [
    [
      "a misspelt top-level key",
      "\nservices:\n",
      "\nservice:\n",
      /^\/: must NOT have additional properties \(service\)$/u,
    ],
    [
      "a misspelt service key",
      '    healthcheck:\n      test: ["CMD", "pg_isready"',
      '    helthcheck:\n      test: ["CMD", "pg_isready"',
      /^\/services\/postgres: must NOT have additional properties \(helthcheck\)$/u,
    ],
    [
      "an unknown depends_on condition",
      "condition: service_healthy",
      "condition: service_happy",
      /^\/services\/event-store\/depends_on\/postgres\/condition: must be equal to one of the allowed values$/u,
    ],
    [
      "ports as one string instead of a list",
      '    ports:\n      - "${ESKIT_BIND:-127.0.0.1}:${ESKIT_EVENT_STORE_PORT:-8081}:8081"',
      '    ports: "127.0.0.1:8081:8081"',
      /^\/services\/event-store\/ports: must be array$/u,
    ],
    [
      "a healthcheck option Compose does not know",
      "      start_period: 10s\n",
      "      start_period: 10s\n      start_delay: 10s\n",
      /^\/services\/postgres\/healthcheck: must NOT have additional properties \(start_delay\)$/u,
    ],
    [
      "an environment value that is a mapping",
      '      PORT: "8081"\n',
      "      PORT: {number: 8081}\n",
      /^\/services\/event-store\/environment\/PORT: must be string,number,boolean,null$/u,
    ],
    [
      "a named volume declared as a list",
      "  postgres-data:\n",
      "  postgres-data: []\n",
      /^\/volumes\/postgres-data: must be object,null$/u,
    ],
  ];
  for (const [what, from, to, error] of breakages) {
    it(`refuses a copy with ${what}`, () => {
      expect(composeText, "the edit applies").toContain(from);
      const broken = interpolate(parseCompose(composeText.replace(from, to)), {});
      const errors = validate(broken);
      expect(
        errors.some((e) => error.test(e)),
        errors.join("\n"),
      ).toBe(true);
    });
  }
});

describe("compose.yaml against the repository and the services' code", () => {
  it("mounts only host paths that exist, files onto files and directories onto directories", () => {
    const binds = Object.entries(compose.services).flatMap(([name, s]) =>
      (s.volumes ?? [])
        .map(parseVolume)
        .filter((v) => v.kind === "bind")
        .map((v) => ({ name, ...v })),
    );
    expect(binds.map((b) => `${b.name} ${b.source}`)).toEqual([
      "prometheus ./deploy/prometheus/prometheus.yml",
      "grafana ./deploy/grafana/provisioning",
      "grafana ./deploy/grafana/dashboards",
    ]);
    for (const bind of binds) {
      const stat = statSync(join(repoRoot, bind.source));
      expect(stat.isFile() ? "file" : stat.isDirectory() ? "directory" : "other", bind.source).toBe(
        /\.ya?ml$/u.test(bind.target) ? "file" : "directory",
      );
      expect(bind.readOnly, `${bind.source} is mounted read-only`).toBe(true);
    }
  });

  it("declares every named volume, and keeps PostgreSQL's data in one", () => {
    const named = Object.values(compose.services).flatMap((s) =>
      (s.volumes ?? []).map(parseVolume).filter((v) => v.kind === "volume"),
    );
    for (const volume of named) expect(Object.keys(compose.volumes ?? {})).toContain(volume.source);
    const postgres = (service("postgres").volumes ?? []).map(parseVolume);
    // The data directory of the postgres image up to 17; 18 moved it, and the volume would then hold nothing.
    expect(postgres).toEqual([
      { source: "postgres-data", target: "/var/lib/postgresql/data", readOnly: false, kind: "volume" },
    ]);
    expect(Number(/^postgres:(\d+)/u.exec(service("postgres").image ?? "")?.[1])).toBeLessThanOrEqual(17);
    // JetStream's streams: in the directory nats-server is told to store them in.
    expect((service("nats").volumes ?? []).map(parseVolume)).toEqual([
      { source: "nats-data", target: natsFlag("-sd"), readOnly: false, kind: "volume" },
    ]);
  });

  it("sets only variables each ESKIT service reads", () => {
    for (const name of eskitServices) {
      const read = configDocsOf[name].map((d) => d.name);
      for (const variable of Object.keys(service(name).environment ?? {}))
        expect(read, `${name} reads ${variable}`).toContain(variable);
    }
  });

  it("publishes each ESKIT service's listening port, on 127.0.0.1 unless ESKIT_BIND says otherwise", () => {
    for (const name of eskitServices) {
      expect(listenPort(name), `${name}'s PORT is its default`).toBe(Number(defaultOf(name, "PORT")));
      const ports = (service(name).ports ?? []).map(parsePort);
      expect(ports, name).toEqual([
        { hostIp: "127.0.0.1", published: String(listenPort(name)), target: listenPort(name), protocol: "tcp" },
      ]);
    }
    const moved = loadCompose({ ESKIT_BIND: "0.0.0.0", ESKIT_EVENT_STORE_PORT: "18081" });
    expect(moved.services["event-store"]?.ports).toEqual(["0.0.0.0:18081:8081"]);
    for (const [name, s] of Object.entries(compose.services)) {
      for (const port of (s.ports ?? []).map(parsePort))
        expect(port.hostIp, `${name} publishes on loopback only`).toBe("127.0.0.1");
    }
  });

  it("checks each ESKIT service's health at GET /healthz on the port it listens on", () => {
    for (const name of eskitServices) {
      const url = healthcheckUrl(name);
      expect(`${url.protocol}//${url.hostname}:${url.port}${url.pathname}`).toBe(
        `http://127.0.0.1:${listenPort(name)}/healthz`,
      );
      // The path server-kit's HTTP server answers for every service (deploy/test/image.e2e.spec.ts runs the check).
      expect(readFileSync(join(repoRoot, "server-kit/src/http/http-server.ts"), "utf8")).toContain(
        `path === "${url.pathname}"`,
      );
    }
    expect(service("postgres").healthcheck?.test).toEqual(["CMD", "pg_isready", "--username=eskit", "--dbname=eskit"]);
  });

  it("connects each service to the others by Compose name and listening port", () => {
    const pg = service("postgres").environment ?? {};
    const database = new URL(service("event-store").environment?.["DATABASE_URL"] ?? "");
    expect([
      database.protocol,
      database.hostname,
      database.port,
      database.username,
      database.password,
      database.pathname,
    ]).toEqual([
      "postgres:",
      "postgres",
      "5432",
      pg["POSTGRES_USER"],
      pg["POSTGRES_PASSWORD"],
      `/${pg["POSTGRES_DB"]}`,
    ]);
    const eventStore = `http://event-store:${listenPort("event-store")}`;
    const crudStore = `http://crud-store:${listenPort("crud-store")}`;
    expect(service("crud-store").environment?.["EVENT_STORE_URL"]).toBe(eventStore);
    expect(service("metrics-consumer").environment?.["EVENT_STORE_URL"]).toBe(eventStore);
    expect(service("metrics-consumer").environment?.["CRUD_STORE_URL"]).toBe(crudStore);
    expect(service("jetstream-bridge").environment?.["EVENT_STORE_URL"]).toBe(eventStore);
    // nats-server's client port: its default, since the command sets none (-p), and the one Compose publishes.
    expect(service("nats").command?.some((arg) => ["-p", "--port", "-port"].includes(arg.split("=")[0] ?? ""))).toBe(
      false,
    );
    expect(service("jetstream-bridge").environment?.["NATS_URL"]).toBe("nats://nats:4222");
    expect((service("nats").ports ?? []).map(parsePort).map((p) => p.target)).toEqual([4222]);
    expect(loadCompose({ POSTGRES_PASSWORD: "s3cret" }).services["event-store"]?.environment?.["DATABASE_URL"]).toBe(
      "postgres://eskit:s3cret@postgres:5432/eskit",
    );
  });

  it("starts each service once what it needs is healthy", () => {
    const dependencies = Object.fromEntries(
      Object.entries(compose.services).map(([name, s]) => [name, s.depends_on ?? {}]),
    );
    expect(dependencies).toEqual({
      postgres: {},
      "event-store": { postgres: { condition: "service_healthy" } },
      "crud-store": { "event-store": { condition: "service_healthy" } },
      "metrics-consumer": {
        "event-store": { condition: "service_healthy" },
        "crud-store": { condition: "service_healthy" },
      },
      nats: {},
      "jetstream-bridge": {
        "event-store": { condition: "service_healthy" },
        nats: { condition: "service_healthy" },
      },
      console: {
        "event-store": { condition: "service_healthy" },
        "crud-store": { condition: "service_healthy" },
      },
      prometheus: {},
      grafana: { prometheus: { condition: "service_started" } },
    });
    for (const [name, deps] of Object.entries(dependencies)) {
      for (const [dep, { condition }] of Object.entries(deps)) {
        if (condition === "service_healthy")
          expect(compose.services[dep]?.healthcheck, `${name} waits for ${dep}'s healthcheck`).toBeDefined();
      }
    }
  });

  it("builds each ESKIT service from the Dockerfile target of its name", () => {
    const stages = parseDockerfile().stages.map((s) => s.name);
    for (const name of eskitServices) {
      expect(service(name).build).toEqual({ context: ".", target: name });
      expect(stages).toContain(name);
    }
  });

  it("gives the Metrics Consumer time to save its offset before Docker kills it", () => {
    // metrics-consumer/src/main.ts: a stop may take twice the shutdown timeout plus 2 s before the process gives up.
    const shutdownMs = Number(defaultOf("metrics-consumer", "ESKIT_SHUTDOWN_TIMEOUT_MS"));
    expect(durationMs(service("metrics-consumer").stop_grace_period ?? "10s")).toBeGreaterThan(2 * shutdownMs + 2000);
  });

  it("gives the JetStream bridge time to end its publish and save its offset before Docker kills it", () => {
    // jetstream-bridge/src/main.ts: a stop may take twice the shutdown timeout, plus one publish's ack timeout, plus
    // 2 s before the process gives up.
    const shutdownMs = Number(defaultOf("jetstream-bridge", "ESKIT_SHUTDOWN_TIMEOUT_MS"));
    const ackTimeoutMs = Number(defaultOf("jetstream-bridge", "JETSTREAM_ACK_TIMEOUT_MS"));
    expect(durationMs(service("jetstream-bridge").stop_grace_period ?? "10s")).toBeGreaterThan(
      2 * shutdownMs + ackTimeoutMs + 2000,
    );
  });
});

describe("compose.yaml's NATS", () => {
  it("runs the official image's alpine variant, the one with a program (BusyBox wget) its healthcheck can run", () => {
    // The default variant is FROM scratch: nats-server and nothing else, so no healthcheck command would exist there.
    expect(service("nats").image).toMatch(/^nats:2\.\d+(?:\.\d+)?-alpine(?:\d+\.\d+)?$/u);
    expect(service("nats").build).toBeUndefined();
  });

  it("enables JetStream, keeps its store in the named volume and serves the monitoring port", () => {
    const command = service("nats").command ?? [];
    // The image's entrypoint prepends nats-server to a command that starts with a flag.
    expect(command[0]?.startsWith("-"), command.join(" ")).toBe(true);
    expect(command).toContain("-js");
    expect(natsFlag("-sd")).toBe("/data");
    expect(Object.keys(compose.volumes ?? {})).toContain("nats-data");
    expect(Number(natsFlag("-m"))).toBeGreaterThan(0);
  });

  it("checks NATS's health at GET /healthz of the monitoring port the command opens, with wget", () => {
    expect(service("nats").healthcheck?.test).toEqual([
      "CMD",
      "wget",
      "-q",
      "--spider",
      `http://127.0.0.1:${natsFlag("-m")}/healthz`,
    ]);
  });

  it("publishes the client port on 127.0.0.1 for consumers on the host, on ESKIT_NATS_PORT when it is set", () => {
    expect((service("nats").ports ?? []).map(parsePort)).toEqual([
      { hostIp: "127.0.0.1", published: "4222", target: 4222, protocol: "tcp" },
    ]);
    expect(loadCompose({ ESKIT_BIND: "0.0.0.0", ESKIT_NATS_PORT: "14222" }).services["nats"]?.ports).toEqual([
      "0.0.0.0:14222:4222",
    ]);
  });
});

describe("compose.yaml against deploy/prometheus and deploy/grafana", () => {
  it("has Prometheus scrape each ESKIT service by its Compose name and listening port", () => {
    const mounts = (service("prometheus").volumes ?? []).map(parseVolume);
    // The configuration file the prom/prometheus image starts with.
    expect(mounts).toContainEqual({
      source: "./deploy/prometheus/prometheus.yml",
      target: "/etc/prometheus/prometheus.yml",
      readOnly: true,
      kind: "bind",
    });
    const config = parse(readFileSync(join(repoRoot, "deploy/prometheus/prometheus.yml"), "utf8")) as {
      scrape_configs: Array<{ job_name: string; metrics_path?: string; static_configs: Array<{ targets: string[] }> }>;
    };
    const jobs = Object.fromEntries(
      config.scrape_configs.map((j) => [j.job_name, j.static_configs.flatMap((c) => c.targets)]),
    );
    expect(jobs).toEqual(Object.fromEntries(eskitServices.map((name) => [name, [`${name}:${listenPort(name)}`]])));
  });

  it("gives Grafana its provisioning, the dashboards where the provider reads them, and the datasource's Prometheus", () => {
    const mounts = (service("grafana").volumes ?? []).map(parseVolume);
    // Grafana reads provisioning from /etc/grafana/provisioning (GF_PATHS_PROVISIONING) by default.
    expect(mounts).toContainEqual({
      source: "./deploy/grafana/provisioning",
      target: "/etc/grafana/provisioning",
      readOnly: true,
      kind: "bind",
    });
    const provider = parse(
      readFileSync(join(repoRoot, "deploy/grafana/provisioning/dashboards/eskit.yml"), "utf8"),
    ) as {
      providers: Array<{ options: { path: string } }>;
    };
    const dashboards = mounts.find((m) => m.source === "./deploy/grafana/dashboards");
    expect(provider.providers.map((p) => p.options.path)).toEqual([dashboards?.target]);
    const datasources = parse(
      readFileSync(join(repoRoot, "deploy/grafana/provisioning/datasources/prometheus.yml"), "utf8"),
    ) as {
      datasources: Array<{ url: string }>;
    };
    const prometheusPort = (service("prometheus").ports ?? []).map(parsePort)[0]?.target;
    expect(datasources.datasources.map((d) => d.url)).toEqual([`http://prometheus:${prometheusPort}`]);
  });
});

describe("compose.yaml's console", () => {
  /** The host port Compose publishes `name`'s listening port on, with `env` set. */
  const publishedPort = (name: string, env: Record<string, string> = {}) =>
    (loadCompose(env).services[name]?.ports ?? []).map(parsePort)[0]?.published;

  it("sets only variables the console server reads", () => {
    const read = consoleConfigDocs.map((d) => d.name);
    expect(read).toContain("CONSOLE_EVENT_STORE_URL");
    for (const variable of Object.keys(service("console").environment ?? {}))
      expect(read, `the console reads ${variable}`).toContain(variable);
  });

  it("is built from the Dockerfile's console target", () => {
    expect(service("console").build).toEqual({ context: ".", target: "console" });
    expect(parseDockerfile().stages.map((s) => s.name)).toContain("console");
  });

  it("publishes the console's listening port on 127.0.0.1, on ESKIT_CONSOLE_PORT when it is set", () => {
    expect(listenPort("console")).toBe(Number(defaultOf("console", "PORT")));
    expect((service("console").ports ?? []).map(parsePort)).toEqual([
      { hostIp: "127.0.0.1", published: "8080", target: listenPort("console"), protocol: "tcp" },
    ]);
    expect(loadCompose({ ESKIT_BIND: "0.0.0.0", ESKIT_CONSOLE_PORT: "18080" }).services["console"]?.ports).toEqual([
      "0.0.0.0:18080:8080",
    ]);
  });

  it("checks the console's health at GET /healthz on the port it listens on", () => {
    const url = healthcheckUrl("console");
    expect(`${url.protocol}//${url.hostname}:${url.port}${url.pathname}`).toBe(
      `http://127.0.0.1:${listenPort("console")}/healthz`,
    );
    // The path the console server answers (console/server/static-server.int.spec.ts and image.e2e.spec.ts call it).
    expect(readFileSync(join(repoRoot, "console/server/static-server.ts"), "utf8")).toContain(
      `path === "${url.pathname}"`,
    );
  });

  it("points the page at the stores' published ports on the host a browser reaches them by, never at Compose's names", () => {
    for (const env of [{}, { ESKIT_EVENT_STORE_PORT: "18081", ESKIT_CRUD_STORE_PORT: "18082" }] as Array<
      Record<string, string>
    >) {
      const environment = loadCompose(env).services["console"]?.environment ?? {};
      expect(environment["CONSOLE_EVENT_STORE_URL"]).toBe(`http://127.0.0.1:${publishedPort("event-store", env)}`);
      expect(environment["CONSOLE_CRUD_STORE_URL"]).toBe(`http://127.0.0.1:${publishedPort("crud-store", env)}`);
    }
    const remote = loadCompose({ ESKIT_PUBLIC_HOST: "eskit.example.org" }).services["console"]?.environment ?? {};
    expect([remote["CONSOLE_EVENT_STORE_URL"], remote["CONSOLE_CRUD_STORE_URL"]]).toEqual([
      "http://eskit.example.org:8081",
      "http://eskit.example.org:8082",
    ]);
    for (const name of ["CONSOLE_EVENT_STORE_URL", "CONSOLE_CRUD_STORE_URL"]) {
      const host = new URL(service("console").environment?.[name] ?? "").hostname;
      expect(Object.keys(compose.services), `${name} names no Compose service`).not.toContain(host);
    }
  });

  it("leaves every ESKIT service's CORS open to the console's origin", () => {
    const origin = `http://127.0.0.1:${publishedPort("console")}`;
    // The JetStream bridge answers no browser (its health RPC, /healthz and /metrics have no CORS): it reads none.
    expect(configDocsOf["jetstream-bridge"].map((d) => d.name)).not.toContain("ESKIT_CORS_ORIGINS");
    for (const name of eskitServices.filter((n) => n !== "jetstream-bridge")) {
      const origins = (service(name).environment?.["ESKIT_CORS_ORIGINS"] ?? defaultOf(name, "ESKIT_CORS_ORIGINS"))
        .split(",")
        .map((o) => o.trim());
      expect(origins.includes("*") || origins.includes(origin), `${name} allows ${origin}`).toBe(true);
    }
  });
});
