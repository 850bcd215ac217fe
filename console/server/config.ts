import { statSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  configDocsOf,
  type ConfigOf,
  type EnvSpec,
  hostSpec,
  loadEnv,
  logLevelSpec,
  shutdownTimeoutSpec,
} from "@eskit/server-kit/env-config.js";

/**
 * The console server's variables. The two URLs are the ones a *browser* uses to reach the services (what `make run`
 * prints, or the ports Compose publishes), never the names services use among themselves (`http://event-store:8081`),
 * which no browser can resolve.
 */
const specs = {
  port: {
    env: "PORT",
    kind: "int",
    min: 0,
    max: 65535,
    default: 8080,
    meaning: "TCP port serving the console's files, /config.json and /healthz",
  },
  host: hostSpec,
  root: {
    env: "CONSOLE_ROOT",
    kind: "string",
    default: "console/dist",
    meaning:
      "Directory of the built console (vite build's output, with its index.html), relative to the working directory",
  },
  eventStoreUrl: {
    env: "CONSOLE_EVENT_STORE_URL",
    kind: "httpUrl",
    default: "http://127.0.0.1:8081",
    meaning:
      "The Event Store's base URL as the browser reaches it, served in /config.json (the page's default; the Access page changes it)",
  },
  crudStoreUrl: {
    env: "CONSOLE_CRUD_STORE_URL",
    kind: "httpUrl",
    default: "http://127.0.0.1:8082",
    meaning: "The Crud Store's base URL as the browser reaches it, served in /config.json",
  },
  logLevel: logLevelSpec,
  shutdownTimeoutMs: shutdownTimeoutSpec,
} as const satisfies Record<string, EnvSpec>;

/** Everything the console server reads from its environment, parsed and validated once at start-up. */
export type ConsoleConfig = ConfigOf<typeof specs>;

/** One row per environment variable, in declaration order; docs/configuration.md's table is checked against it. */
export const configDocs = configDocsOf(specs);

/**
 * Parses and validates the configuration from `env`; `root` comes back absolute. A root without an `index.html` is a
 * configuration error like a bad port: the server would answer every page with 404, so it refuses to start and says
 * how to build the console. Throws one ConfigError naming every invalid variable.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): ConsoleConfig {
  return loadEnv(specs, env, (config, problems) => {
    config.root = resolve(cwd, config.root);
    if (!isFile(join(config.root, "index.html"))) {
      problems.push(
        `CONSOLE_ROOT must be the directory of the built console, holding index.html (build it: cd console && npx vite build), got ${JSON.stringify(config.root)}`,
      );
    }
  });
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
