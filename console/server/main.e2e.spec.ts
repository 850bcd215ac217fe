import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "@eskit/test-kit/event-store.js";
import { notInherited, spawnService } from "@eskit/test-kit/service-process.js";

// `node --import tsx console/server/main.ts` as an operator runs it: configured by its environment, a JSON start
// line, /healthz for probes, a clean stop on SIGTERM, and exit 2 naming every bad variable.

const entry = "console/server/main.ts";
let work = "";

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "eskit-console-main-"));
  await mkdir(join(work, "dist/assets"), { recursive: true });
  await writeFile(join(work, "dist/index.html"), "<!doctype html><title>ESKIT console</title>");
  await writeFile(join(work, "dist/assets/index-abc.js"), "export {};");
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Runs the entry until it exits (it should, at once); stdout and stderr as written. */
function runToExit(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const inherited = { ...process.env };
  for (const name of [...notInherited, "CONSOLE_ROOT", "CONSOLE_EVENT_STORE_URL", "CONSOLE_CRUD_STORE_URL"])
    delete inherited[name];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", entry], {
      cwd: repoRoot,
      env: { ...inherited, HOST: "127.0.0.1", PORT: "0", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.once("error", reject);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("the console server's entry point", () => {
  it("serves the files of CONSOLE_ROOT and the browser URLs it is given, logs a start line, and stops on SIGTERM with 0", async () => {
    const server = await spawnService({
      entry,
      env: {
        CONSOLE_ROOT: join(work, "dist"),
        CONSOLE_EVENT_STORE_URL: "http://eskit.example.org:18081",
        CONSOLE_CRUD_STORE_URL: "http://eskit.example.org:18082",
        LOG_LEVEL: "info",
      },
    });
    try {
      expect(await (await fetch(`${server.url}/config.json`)).json()).toEqual({
        eventStoreUrl: "http://eskit.example.org:18081",
        crudStoreUrl: "http://eskit.example.org:18082",
      });
      expect(await (await fetch(`${server.url}/`)).text()).toContain("<title>ESKIT console</title>");
      expect((await fetch(`${server.url}/assets/index-abc.js`)).headers.get("cache-control")).toBe(
        "public, max-age=31536000, immutable",
      );
      const start = JSON.parse(server.stdout().split("\n")[0] ?? "{}") as Record<string, unknown>;
      expect(start).toMatchObject({
        level: "info",
        service: "console",
        msg: "console listening",
        url: server.url,
        root: join(work, "dist"),
        event_store_url: "http://eskit.example.org:18081",
        crud_store_url: "http://eskit.example.org:18082",
      });
    } finally {
      server.kill("SIGTERM");
    }
    expect(await server.exited).toBe(0);
    const lines = server
      .stdout()
      .trim()
      .split("\n")
      .map((line) => (JSON.parse(line) as { msg: string }).msg);
    expect(lines).toEqual(["console listening", "stopping", "console stopped"]);
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  });

  it("writes nothing at LOG_LEVEL=error while all is well", async () => {
    const server = await spawnService({ entry, env: { CONSOLE_ROOT: join(work, "dist"), LOG_LEVEL: "error" } });
    server.kill("SIGTERM");
    expect(await server.exited).toBe(0);
    expect(server.stdout()).toBe("");
  });

  it("exits 2 naming every bad variable, and refuses a root with no built console", async () => {
    const bad = await runToExit({ PORT: "eighty", CONSOLE_CRUD_STORE_URL: "crud-store:8082" });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('PORT must be an integer 0..65535, got "eighty"');
    expect(bad.stderr).toContain("CONSOLE_CRUD_STORE_URL must be a base URL such as http://host:port (no path)");
    const unbuilt = await runToExit({ CONSOLE_ROOT: join(work, "nowhere") });
    expect(unbuilt.code).toBe(2);
    expect(unbuilt.stderr).toContain("CONSOLE_ROOT must be the directory of the built console, holding index.html");
    expect(unbuilt.stderr).toContain("cd console && npx vite build");
  });
});
