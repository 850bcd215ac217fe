import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname } from "node:path";
import { describe, expect, it } from "vitest";
import { freePort } from "@eskit/test-kit/event-store.js";
import { startMakeRun, summaryLine, type RunningMakeRun } from "@eskit/test-kit/make-run.js";

// `make run`'s supervisor (scripts/run-system.ts) and the console: it builds the console while the services start,
// serves it on ESKIT_CONSOLE_PORT with a config.json naming the stores it started, prints its URL with the others,
// and stops it with them. The console is an extra: when it cannot be served, the services run without it. Every
// port is a free one, so that a `make run` of the developer's own cannot answer in this one's place.

interface Ports {
  eventStore: number;
  crudStore: number;
  metricsConsumer: number;
  console: number;
}

interface RunningSystem extends RunningMakeRun {
  ports: Ports;
}

/** The supervisor on `ports` and fresh storage, resolved once it says the system is up. */
async function startSystem(ports: Ports): Promise<RunningSystem> {
  const system = await startMakeRun({
    // info: the console's start line names the directory it serves.
    LOG_LEVEL: "info",
    ESKIT_EVENT_STORE_PORT: String(ports.eventStore),
    ESKIT_CRUD_STORE_PORT: String(ports.crudStore),
    ESKIT_METRICS_CONSUMER_PORT: String(ports.metricsConsumer),
    ESKIT_CONSOLE_PORT: String(ports.console),
  });
  return { ...system, ports };
}

async function freePorts(): Promise<Ports> {
  return {
    eventStore: await freePort(),
    crudStore: await freePort(),
    metricsConsumer: await freePort(),
    console: await freePort(),
  };
}

/** The directory the console served, from its start line. */
function servedRoot(output: string): string | undefined {
  for (const line of output.split("\n")) {
    if (!line.startsWith("{")) continue;
    const entry = JSON.parse(line) as { service?: string; msg?: string; root?: string };
    if (entry.service === "console" && entry.msg === "console listening") return entry.root;
  }
  return undefined;
}

describe("make run and the console", () => {
  it("builds the console, serves it at the URL it prints with the others, pointed at the stores it started, and stops it with them", async () => {
    const system = await startSystem(await freePorts());
    const { ports } = system;
    let root: string | undefined;
    try {
      const output = system.output();
      const url = `http://127.0.0.1:${ports.console}`;
      expect(summaryLine(output, "console"), output).toBe(url);
      expect(summaryLine(output, "event-store")).toBe(`http://127.0.0.1:${ports.eventStore}`);
      expect(summaryLine(output, "crud-store")).toBe(`http://127.0.0.1:${ports.crudStore}`);

      const page = await fetch(`${url}/`);
      const html = await page.text();
      expect([page.status, page.headers.get("content-type")]).toEqual([200, "text/html; charset=utf-8"]);
      expect(html).toContain("<title>ESKIT console</title>");
      const script = /<script type="module"[^>]* src="\.\/(assets\/[^"]+\.js)"/u.exec(html)?.[1];
      if (script === undefined) throw new Error(`the page loads no script:\n${html}`);
      const asset = await fetch(`${url}/${script}`);
      expect([asset.status, asset.headers.get("content-type")]).toEqual([200, "text/javascript; charset=utf-8"]);
      expect((await asset.text()).length).toBeGreaterThan(1000);

      const config = await fetch(`${url}/config.json`);
      expect(await config.json()).toEqual({
        eventStoreUrl: `http://127.0.0.1:${ports.eventStore}`,
        crudStoreUrl: `http://127.0.0.1:${ports.crudStore}`,
      });

      // The page's calls leave its origin: each store's CORS (ESKIT_CORS_ORIGINS at its default) lets them through.
      for (const [port, path] of [
        [ports.eventStore, "eskit.eventstore.v1.EventStoreService/GetHead"],
        [ports.crudStore, "eskit.crudstore.v1.CrudStoreService/Get"],
      ] as const) {
        const preflight = await fetch(`http://127.0.0.1:${port}/${path}`, {
          method: "OPTIONS",
          headers: {
            origin: url,
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type,x-grpc-web",
          },
        });
        expect([preflight.status, preflight.headers.get("access-control-allow-origin")], path).toEqual([204, url]);
      }

      // Built for this run, into a directory of its own: not console/dist, which a build of the developer's may swap.
      root = servedRoot(output);
      expect(root, output).toBeDefined();
      expect(dirname(root ?? "")).toBe(tmpdir());
      expect(root).toMatch(/\/eskit-console-[^/]+$/u);
    } finally {
      expect(await system.stop(), system.output()).toBe(0);
    }
    await expect(fetch(`http://127.0.0.1:${ports.console}/healthz`)).rejects.toThrow();
    await expect(fetch(`http://127.0.0.1:${ports.eventStore}/healthz`)).rejects.toThrow();
    expect(existsSync(root ?? ""), `${root} is removed`).toBe(false);
    // The console stopped before the stores it calls.
    const stops = system
      .output()
      .split("\n")
      .filter((line) => /"msg":"stopping"/u.test(line));
    expect(stops[0]).toContain('"service":"console"');
  }, 120_000);

  it("says why the console is not served when its port is taken, and keeps the services running", async () => {
    const ports = await freePorts();
    const squatter = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => squatter.listen(ports.console, "127.0.0.1", resolve));
    const system = await startSystem(ports);
    try {
      const output = system.output();
      expect(summaryLine(output, "console"), output).toBe("not served (see above)");
      expect(output).toContain("eskit: the console is not served: console exited during start-up");
      expect(output).toContain(`Is port ${ports.console} taken? ESKIT_CONSOLE_PORT picks another`);
      for (const port of [ports.eventStore, ports.crudStore, ports.metricsConsumer])
        expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status, String(port)).toBe(200);
    } finally {
      expect(await system.stop(), system.output()).toBe(0);
      await new Promise((resolve) => squatter.close(resolve));
    }
  }, 120_000);
});
