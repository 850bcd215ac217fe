// The console server as a process: `node --import tsx console/server/main.ts` (the Compose image runs its bundle).
// Configured by its environment like the services (console/server/config.ts, docs/configuration.md), with their
// start and stop: exit 2 naming every bad variable, a JSON start line, a clean stop on SIGTERM or SIGINT.
import { runService } from "@eskit/server-kit/run-service.js";
import { loadConfig } from "./config.js";
import { startConsoleServer } from "./static-server.js";

await runService({
  name: "console",
  loadConfig: () => loadConfig(),
  start: async (config, logger) => {
    const server = await startConsoleServer({
      root: config.root,
      host: config.host,
      port: config.port,
      config: { eventStoreUrl: config.eventStoreUrl, crudStoreUrl: config.crudStoreUrl },
    });
    logger.info("console listening", {
      url: server.url,
      root: config.root,
      event_store_url: config.eventStoreUrl,
      crud_store_url: config.crudStoreUrl,
    });
    return {
      async close() {
        await server.close({ timeoutMs: config.shutdownTimeoutMs });
        logger.info("console stopped");
      },
    };
  },
});
