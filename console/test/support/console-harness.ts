import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createEventStoreClient, type EventStoreClient } from "@eskit/client";
import { createNodeTransport } from "@eskit/client/node.js";
import { startCrudStore } from "@eskit/crud-store/app.js";
import { loadConfig } from "@eskit/crud-store/config.js";
import { startTestEventStore } from "@eskit/test-kit/event-store.js";
import type { Browser, Page } from "playwright-core";
import { build } from "vite";
import { startConsoleServer, type ConsoleServer } from "../../server/static-server.js";

const consoleRoot = fileURLToPath(new URL("../../", import.meta.url));

/** Builds the console (its real Vite build, bundle budget included) into a fresh temporary folder. */
export async function buildConsole(): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "eskit-console-"));
  await build({ configFile: join(consoleRoot, "vite.config.ts"), build: { outDir: dir, emptyOutDir: true } });
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Access control for {@link startConsoleSystem}: both services get the same tokens. */
export interface AccessTokens {
  readonly full: string;
  readonly read: string;
}

/** An Event Store and a Crud Store in this process, and the built console served on its own origin. */
export interface ConsoleSystem {
  readonly eventStoreUrl: string;
  readonly crudStoreUrl: string;
  readonly console: ConsoleServer;
  stop(): Promise<void>;
}

/** Starts the services (with `tokens`, access control on) and serves `dir` pointing at them. */
export async function startConsoleSystem(dir: string, tokens?: AccessTokens): Promise<ConsoleSystem> {
  const auth = tokens === undefined ? {} : { authTokens: [tokens.full], readTokens: [tokens.read] };
  const eventStore = await startTestEventStore(auth);
  const crudStore = await startCrudStore({
    ...loadConfig({}),
    ...auth,
    ...(tokens === undefined ? {} : { eventStoreToken: tokens.full }),
    port: 0,
    host: "127.0.0.1",
    eventStoreUrl: eventStore.url,
  });
  const console = await startConsoleServer({
    root: dir,
    host: "127.0.0.1",
    port: 0,
    config: { eventStoreUrl: eventStore.url, crudStoreUrl: crudStore.url },
  });
  return {
    eventStoreUrl: eventStore.url,
    crudStoreUrl: crudStore.url,
    console,
    async stop() {
      await console.close();
      await crudStore.close();
      await eventStore.stop();
    },
  };
}

/** Debian's Chromium, headless (the test kit's launch, shared with the Event Store's browser test). */
export { launchChromium } from "@eskit/test-kit/chromium.js";

/** A page of the console (its own browser context, so its own sessionStorage), with page errors collected. */
export async function openConsole(
  browser: Browser,
  system: ConsoleSystem,
  hash = "#/log",
): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  // Well inside the tests' own timeout, so a missing element fails on its line, not as a test timeout.
  context.setDefaultTimeout(5000);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto(`${system.console.url}/${hash}`);
  return { page, errors };
}

/** An Event Store client for the test itself (gRPC from Node), to write what the page should then show. */
export function eventStoreApi(system: ConsoleSystem, token?: string): { client: EventStoreClient; close(): void } {
  const transport = createNodeTransport({
    baseUrl: system.eventStoreUrl,
    protocol: "grpc",
    ...(token === undefined ? {} : { token }),
  });
  return { client: createEventStoreClient(transport), close: () => transport.close() };
}
