/**
 * `node --import tsx examples/documents-by-field/main.ts`: the example as a process, configured by its environment
 * (config.ts), logging JSON lines with pino. SIGINT and SIGTERM stop it cleanly; a projection that fails for good
 * (a batch it cannot apply: see document-changes.ts) ends it with exit code 1, after logging which entry and why.
 */
import { pino } from "pino";
import { startDocumentsByField } from "./app.js";
import { loadConfig } from "./config.js";

// One JSON object per line, as the services write theirs: ISO time, the level's name.
const logger = pino({
  level: process.env["LOG_LEVEL"] || "info",
  base: { example: "documents-by-field" },
  timestamp: pino.stdTimeFunctions.isoTime,
  formatters: { level: (label) => ({ level: label }) },
});
const config = loadConfig();
const app = await startDocumentsByField(config, logger);
logger.info(
  { url: app.url, entityType: config.entityType, projection: app.projection.status().name },
  `query API at ${app.url}/customers`,
);

let stopping = false;
const stop = (code: number) => {
  if (stopping) return;
  stopping = true;
  void app.stop().finally(() => process.exit(code));
};
process.once("SIGINT", () => stop(0));
process.once("SIGTERM", () => stop(0));
app.projection.done.then(
  () => stop(0),
  (error: unknown) => {
    logger.error({ err: error instanceof Error ? error.message : String(error) }, "the projection stopped");
    stop(1);
  },
);
