import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Http2SessionManager, createConnectTransport } from "@connectrpc/connect-node";
import { type Client, createClient } from "@connectrpc/connect";
import { CrudStoreService } from "@eskit/gen/eskit/crudstore/v1/crud_store_pb.js";
import { EventStoreService } from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import { loadConfig as loadCrudStoreConfig } from "../../crud-store/src/config.js";
import type { BenchConfig } from "./config.js";
import { CpuMeter } from "./cpu-meter.js";
import type { CrudBenchConfig } from "./crud-config.js";
import { startCrudStoreServer } from "./crud-store-server.js";
import { type BenchServer, startBenchServer } from "./event-store-server.js";
import { createFreshDatabase } from "./fresh-database.js";
import { StackCpuMeter } from "./stack-cpu.js";

/** One Event Store with two Crud Stores on it: snapshots at the default interval, and snapshots off. */
export interface CrudStack {
  readonly eventStore: BenchServer;
  /** The Crud Store with the configuration default `snapshotEvery`. */
  readonly crud: BenchServer;
  readonly snapshotEvery: number;
  /** A second Crud Store on the same Event Store with `snapshotEvery` 0: it ignores the snapshots the first keeps. */
  readonly crudNoSnapshots: BenchServer;
  readonly meter: StackCpuMeter;
  /** What the Event Store stores into, for the table notes. */
  readonly storage: string;
  stop(): Promise<void>;
}

/**
 * Starts the stack on fresh storage: a new PostgreSQL database on the server of DATABASE_URL (dropped by `stop`),
 * or PGlite in a new temp directory (removed by `stop`).
 */
export async function startCrudStack(config: BenchConfig, crudConfig: CrudBenchConfig): Promise<CrudStack> {
  const cleanups: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  };
  try {
    let eventStore: BenchServer;
    let pgMeter: CpuMeter | undefined;
    let storage: string;
    if (crudConfig.storage === "pglite") {
      const dataDir = await mkdtemp(join(tmpdir(), "eskit-bench-crud-"));
      cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
      eventStore = await startBenchServer(config, "", { ESKIT_DATA_DIR: dataDir });
      storage = "PGlite (embedded in the Event Store's process)";
    } else {
      const db = await createFreshDatabase(config.databaseUrl, "crud");
      cleanups.push(() => db.drop());
      eventStore = await startBenchServer(config, db.url);
      pgMeter = new CpuMeter(config.databaseUrl, [db.name], undefined);
      cleanups.push(() => pgMeter!.close());
      storage = `PostgreSQL, fresh database ${db.name}`;
    }
    cleanups.push(() => eventStore.stop());
    const snapshotEvery = loadCrudStoreConfig({}).snapshotEvery;
    const crud = await startCrudStoreServer(config, eventStore.url, snapshotEvery);
    cleanups.push(() => crud.stop());
    const crudNoSnapshots = await startCrudStoreServer(config, eventStore.url, 0);
    cleanups.push(() => crudNoSnapshots.stop());
    const meter = new StackCpuMeter([crud.pid, crudNoSnapshots.pid], eventStore.pid, pgMeter);
    return { eventStore, crud, snapshotEvery, crudNoSnapshots, meter, storage, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A generated client over its own HTTP/2 connection (Connect protocol, binary), and how to close that connection. */
export interface Connection<C> {
  readonly client: C;
  close(): void;
}

function connect<S extends typeof CrudStoreService | typeof EventStoreService>(
  service: S,
  baseUrl: string,
): Connection<Client<S>> {
  const sessionManager = new Http2SessionManager(baseUrl);
  const transport = createConnectTransport({ baseUrl, httpVersion: "2", useBinaryFormat: true, sessionManager });
  return { client: createClient(service, transport), close: () => sessionManager.abort() };
}

/** A Crud Store client as a Node service would hold one: connect-es, binary, one HTTP/2 connection. */
export const connectCrud = (baseUrl: string) => connect(CrudStoreService, baseUrl);

/** The same kind of client for the Event Store, for the baselines. */
export const connectEventStore = (baseUrl: string) => connect(EventStoreService, baseUrl);
