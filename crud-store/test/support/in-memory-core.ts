/**
 * The Crud Store's core (document store, state reader, type registry) wired onto an in-memory Event Store, as
 * app.ts wires it onto the real one: unit tests of the core need no server.
 */
import type { Logger } from "@eskit/server-kit/logger.js";
import { TypeRegistry } from "../../src/registry/type-registry.js";
import { DocumentStore } from "../../src/store/documents.js";
import { StateReader } from "../../src/store/state-reader.js";
import { InMemoryEventStore } from "./in-memory-event-store.js";

/** A core and the in-memory Event Store under it, plus what it logged. */
export interface InMemoryCore {
  readonly eventStore: InMemoryEventStore;
  readonly states: StateReader;
  readonly registry: TypeRegistry;
  readonly documents: DocumentStore;
  /** The messages logged at warn or error, in order. */
  readonly warnings: string[];
}

/** A fresh core that keeps a snapshot every `snapshotEvery` versions (0 = none). */
export function inMemoryCore(snapshotEvery = 0): InMemoryCore {
  const warnings: string[] = [];
  const logger: Logger = {
    debug: () => {},
    info: () => {},
    warn: (msg) => warnings.push(msg),
    error: (msg) => warnings.push(msg),
    enabled: (level) => level === "warn" || level === "error",
    child: () => logger,
  };
  const eventStore = new InMemoryEventStore();
  const states = new StateReader(eventStore, snapshotEvery, logger);
  const registry = new TypeRegistry(eventStore);
  const documents = new DocumentStore(eventStore, states, registry);
  return { eventStore, states, registry, documents, warnings };
}
