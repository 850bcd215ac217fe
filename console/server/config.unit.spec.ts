import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError } from "@eskit/server-kit/env-config.js";
import { repoRoot } from "@eskit/test-kit/event-store.js";
import { configSection } from "@eskit/test-kit/readme-sections.js";
import { configDocs, loadConfig } from "./config.js";

const work = mkdtempSync(join(tmpdir(), "eskit-console-config-"));
/** A built console: a directory with an index.html. */
const built = join(work, "dist");
mkdirSync(built);
writeFileSync(join(built, "index.html"), "<!doctype html>");
afterAll(() => rmSync(work, { recursive: true, force: true }));

function problemsOf(env: NodeJS.ProcessEnv, cwd = work): readonly string[] {
  try {
    loadConfig(env, cwd);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe("the console server's configuration", () => {
  it("defaults to port 8080 on every interface, console/dist, and the stores at make run's ports", () => {
    mkdirSync(join(work, "console/dist"), { recursive: true });
    writeFileSync(join(work, "console/dist/index.html"), "<!doctype html>");
    expect(loadConfig({}, work)).toEqual({
      port: 8080,
      host: "0.0.0.0",
      root: join(work, "console/dist"),
      eventStoreUrl: "http://127.0.0.1:8081",
      crudStoreUrl: "http://127.0.0.1:8082",
      logLevel: "info",
      shutdownTimeoutMs: 8000,
    });
  });

  it("reads every variable, resolves CONSOLE_ROOT from the working directory and drops a URL's trailing slash", () => {
    const config = loadConfig(
      {
        PORT: "18080",
        HOST: "127.0.0.1",
        CONSOLE_ROOT: "dist",
        CONSOLE_EVENT_STORE_URL: "https://es.example.org/",
        CONSOLE_CRUD_STORE_URL: "http://10.0.0.7:18082",
        LOG_LEVEL: "warn",
        ESKIT_SHUTDOWN_TIMEOUT_MS: "100",
      },
      work,
    );
    expect(config).toEqual({
      port: 18080,
      host: "127.0.0.1",
      root: built,
      eventStoreUrl: "https://es.example.org",
      crudStoreUrl: "http://10.0.0.7:18082",
      logLevel: "warn",
      shutdownTimeoutMs: 100,
    });
  });

  it("names every bad variable at once", () => {
    expect(
      problemsOf({
        PORT: "80a",
        CONSOLE_EVENT_STORE_URL: "event-store:8081",
        CONSOLE_CRUD_STORE_URL: "http://127.0.0.1:8082/crud",
        LOG_LEVEL: "loud",
      }),
    ).toEqual([
      'PORT must be an integer 0..65535, got "80a"',
      'CONSOLE_EVENT_STORE_URL must be a base URL such as http://host:port (no path), got "event-store:8081"',
      'CONSOLE_CRUD_STORE_URL must be a base URL such as http://host:port (no path), got "http://127.0.0.1:8082/crud"',
      'LOG_LEVEL must be one of debug, info, warn, error, got "loud"',
    ]);
  });

  it("refuses a CONSOLE_ROOT that holds no built console, and says how to build it", () => {
    mkdirSync(join(work, "empty"));
    for (const root of ["empty", "missing", join(built, "index.html")]) {
      const problems = problemsOf({ CONSOLE_ROOT: root });
      expect(problems, root).toHaveLength(1);
      expect(problems[0]).toMatch(/^CONSOLE_ROOT must be the directory of the built console, holding index\.html/u);
      expect(problems[0]).toContain("cd console && npx vite build");
    }
  });
});

describe("docs/configuration.md", () => {
  const section = configSection(readFileSync(join(repoRoot, "docs/configuration.md"), "utf8"), "Console");

  it("documents every variable of the console server with its real default and meaning", () => {
    for (const doc of configDocs) expect(section).toContain(`| \`${doc.name}\` | ${doc.default} | ${doc.meaning} |`);
  });

  it("documents no variable the console server does not read", () => {
    const documented = [...section.matchAll(/^\| `([A-Z_]+)` \|/gmu)].map((m) => m[1]);
    expect(documented.sort()).toEqual(configDocs.map((d) => d.name).sort());
  });

  it("says that a restricted ESKIT_CORS_ORIGINS must name the console's origin", () => {
    const prose = section.replace(/\s+/gu, " ");
    expect(prose).toContain("a restricted list must name the console's origin");
    expect(prose).toContain("`ESKIT_CORS_ORIGINS=http://127.0.0.1:8080`");
  });
});
