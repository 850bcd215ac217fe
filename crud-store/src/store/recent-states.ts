import { LRUCache } from "lru-cache";
import type { DocumentState } from "../domain/replay.js";

/**
 * The latest states this Crud Store wrote or read of live documents, so that an Update or Delete of one of them is a
 * single Append. A state here is true of its version forever (histories are append-only); it may only have been
 * overtaken by a write through another replica. That needs no invalidation: the Append at the next version is then
 * refused (`aborted` from the Event Store), the entry is dropped, and the write goes the long way (read, check,
 * append), so the caller sees exactly what it would without the cache.
 *
 * Bounded by the size of the documents it holds (their JSON text); the least recently used goes first.
 */
export class RecentStates {
  private readonly states: LRUCache<string, DocumentState> | undefined;

  /** `maxBytes` 0 = keep nothing. */
  constructor(maxBytes: number) {
    this.states =
      maxBytes === 0
        ? undefined
        : new LRUCache<string, DocumentState>({
            maxSize: maxBytes,
            sizeCalculation: (state) => Math.max(1, JSON.stringify(state.document).length),
          });
  }

  get(entityType: string, id: string): DocumentState | undefined {
    return this.states?.get(key(entityType, id));
  }

  /**
   * Keeps `state` as the latest known of the document; a deleted one is dropped instead. `size`: the length of the
   * document's JSON text when the caller has it (else it is serialized to be measured).
   */
  set(entityType: string, id: string, state: DocumentState, size?: number): void {
    if (this.states === undefined) return;
    if (state.deleted) this.states.delete(key(entityType, id));
    else {
      const known = this.states.get(key(entityType, id));
      // Two writes of this replica may finish out of order: keep the later version.
      if (known === undefined || known.version < state.version) {
        this.states.set(key(entityType, id), state, size === undefined ? undefined : { size: Math.max(1, size) });
      }
    }
  }

  delete(entityType: string, id: string): void {
    this.states?.delete(key(entityType, id));
  }
}

function key(entityType: string, id: string): string {
  return `${entityType}\u0000${id}`;
}
