/**
 * Replicas as a deployment runs them behind a load balancer: several Event Store processes on one PostgreSQL
 * database and several Crud Store processes, each Crud Store pointed at one of the Event Stores, all started as
 * production starts them (`node --import tsx <service>/src/main.ts`). Clients are built from `@eskit/client`, as an
 * application builds them, each on a transport of its own (its own connections), and closed with the set.
 */
import { createCrudClient, type CrudClient } from "@eskit/client";
import { createNodeTransport, type NodeTransport } from "@eskit/client/node.js";
import {
  clientsFor,
  spawnEventStore,
  type Clients,
  type Protocol,
  type SpawnedEventStore,
} from "@eskit/test-kit/event-store.js";
import { spawnService, type SpawnedService } from "@eskit/test-kit/service-process.js";

/** The generated Crud Store client: every RPC, JSON text in and out. */
export type CrudService = CrudClient["service"];

/** A running set of replicas; `stop()` closes every client, then every process (Crud Stores first). */
export interface ReplicaSet {
  readonly eventStores: readonly SpawnedEventStore[];
  readonly crudStores: readonly SpawnedService[];
  /** New Event Store clients of replica `i`. */
  eventStore(i: number, protocol?: Protocol): Clients;
  /** A new Crud Store client of replica `i`. */
  crudStore(i: number, protocol?: Protocol): CrudService;
  /** A new transport to `url`, e.g. for `createLogConsumer`. */
  transport(url: string, protocol?: Protocol): NodeTransport;
  stop(): Promise<void>;
}

/** Options of {@link startReplicaSet}. */
export interface ReplicaSetOptions {
  readonly databaseUrl: string;
  readonly eventStores: number;
  /** One entry per Crud Store: the Event Store replica it uses, and its own environment. */
  readonly crudStores: ReadonlyArray<{ readonly eventStore: number; readonly env?: Record<string, string> }>;
}

/**
 * Starts the Event Stores together, so that their start-up migrations race as in a rolling deployment, then the
 * Crud Stores (a Crud Store is healthy only once its Event Store answers).
 */
export async function startReplicaSet(options: ReplicaSetOptions): Promise<ReplicaSet> {
  const started: SpawnedService[] = [];
  const transports: NodeTransport[] = [];
  const eventClients: Clients[] = [];
  const launch = async <S extends SpawnedService>(starting: Promise<S>): Promise<S> => {
    const service = await starting;
    started.push(service);
    return service;
  };
  const stop = async () => {
    for (const c of eventClients) c.close();
    for (const t of transports) t.close();
    // Crud Stores first, so that none sees its Event Store go away.
    await Promise.all(started.slice(options.eventStores).map((s) => s.stop()));
    await Promise.all(started.slice(0, options.eventStores).map((s) => s.stop()));
  };
  try {
    // Settled, not raced: a process that started while another failed must still be stopped.
    const starting = await Promise.allSettled(
      Array.from({ length: options.eventStores }, () => launch(spawnEventStore({ DATABASE_URL: options.databaseUrl }))),
    );
    const eventStores = starting.map((s) => {
      if (s.status === "rejected") throw s.reason;
      return s.value;
    });
    const crudStores: SpawnedService[] = [];
    for (const crud of options.crudStores) {
      const env = { EVENT_STORE_URL: eventStores[crud.eventStore]!.url, ...crud.env };
      crudStores.push(await launch(spawnService({ entry: "crud-store/src/main.ts", env })));
    }
    const transport = (url: string, protocol: Protocol = "grpc") => {
      const t =
        protocol === "grpc"
          ? createNodeTransport({ baseUrl: url, protocol, httpVersion: "2" })
          : createNodeTransport({ baseUrl: url, protocol, httpVersion: "1.1" });
      transports.push(t);
      return t;
    };
    return {
      eventStores,
      crudStores,
      eventStore(i, protocol = "grpc") {
        const c = clientsFor(eventStores[i]!.url, protocol);
        eventClients.push(c);
        return c;
      },
      crudStore: (i, protocol = "grpc") => createCrudClient(transport(crudStores[i]!.url, protocol)).service,
      transport,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
