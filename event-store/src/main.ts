import { runService } from "@eskit/server-kit/run-service.js";
import { startEventStore } from "./app.js";
import { loadConfig } from "./config.js";

await runService({ name: "event-store", loadConfig: () => loadConfig(), start: startEventStore });
