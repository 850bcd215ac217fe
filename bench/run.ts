import { appendThroughput } from "./append-throughput.js";
import { catchUp } from "./catch-up.js";
import { cliTransfer } from "./cli-transfer.js";
import { crudStore } from "./crud.js";
import { jetStreamBridge } from "./jetstream-bridge.js";
import { loadBenchConfig } from "./lib/config.js";
import { logsPollLatency } from "./logs-poll-latency.js";
import { projection } from "./projection.js";

// `make bench`: every benchmark in turn, each on its own fresh databases and its own event store. Tables go to
// stdout (Markdown), progress to stderr.
const config = loadBenchConfig();
const started = performance.now();
await appendThroughput(config);
await logsPollLatency(config);
await catchUp(config);
await crudStore(config);
await cliTransfer(config);
await jetStreamBridge(config);
await projection(config);
process.stderr.write(`[bench] done in ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
