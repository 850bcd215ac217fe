import { runService } from "@eskit/server-kit/run-service.js";
import { startCrudStore } from "./app.js";
import { loadConfig } from "./config.js";

await runService({ name: "crud-store", loadConfig: () => loadConfig(), start: startCrudStore });
