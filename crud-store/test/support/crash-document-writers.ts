/**
 * Crud Store writers that keep going while the Crud Store and the Event Store are killed and restarted under them.
 * Each creates documents of its own and updates them, and updates a few "shared" documents every writer contends for;
 * it records, per document, the payload of every version acknowledged to it and of every write left unacknowledged
 * (the connection died or a store was down: that version may or may not exist). A document whose write went
 * unacknowledged is not written by that writer again, so the crash's outcome stays as it was.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { mulberry32 } from "@eskit/test-kit/append-workload.js";
import { isRefusal } from "@eskit/test-kit/crash-writers.js";
import type { CrudClient } from "../harness.js";

/** What writers know of one document: the payload of each version, by how the write ended. */
export interface DocumentRecord {
  readonly id: string;
  /** Version → the payload acknowledged for it. */
  readonly acked: Map<bigint, string>;
  /** Version → payloads of unacknowledged writes that would have made it (several writers on a shared document). */
  readonly unacked: Map<bigint, string[]>;
}

/** Running writers; `epoch` is raised by the test at each kill. */
export interface DocumentWriters {
  readonly documents: ReadonlyMap<string, DocumentRecord>;
  /** Answers no crash explains (a refusal on a document only this writer writes, a wrong version): should be none. */
  readonly anomalies: readonly string[];
  epoch: number;
  /** Writes by outcome so far, and the codes of the unacknowledged ones. */
  count(): { acked: number; refused: number; unacked: number; unackedCodes: Record<string, number> };
  stop(): Promise<void>;
}

/** Options of {@link startDocumentWriters}. */
export interface DocumentWritersOptions {
  readonly clients: ReadonlyArray<{ readonly protocol: string; readonly crud: CrudClient }>;
  readonly entityType: string;
  readonly seed: number;
  /** Documents every writer updates (1 by default), so that writers conflict. */
  readonly sharedDocuments?: number;
  readonly timeoutMs?: number;
}

// While a store is down every call fails at once: pause, longer after each failure in a row (up to 250 ms).
const pauseAfterFailureMs = (failuresInARow: number) => Math.min(250, 25 * 2 ** failuresInARow);

/** Starts one writer per client; they run until {@link DocumentWriters.stop}. */
export function startDocumentWriters(options: DocumentWritersOptions): DocumentWriters {
  const documents = new Map<string, DocumentRecord>();
  const record = (id: string): DocumentRecord => {
    let doc = documents.get(id);
    if (doc === undefined) documents.set(id, (doc = { id, acked: new Map(), unacked: new Map() }));
    return doc;
  };
  const anomalies: string[] = [];
  const counts = { acked: 0, refused: 0, unacked: 0, unackedCodes: {} as Record<string, number> };
  const state = { stopped: false, epoch: 0 };
  const shared = Array.from({ length: options.sharedDocuments ?? 1 }, (_, k) => `shared-${options.seed}-${k}`);

  const runWriter = async (client: DocumentWritersOptions["clients"][number], writer: number): Promise<void> => {
    const random = mulberry32(options.seed * 1000 + writer);
    let sequence = 0;
    let failures = 0;
    const pause = () => new Promise((resolve) => setTimeout(resolve, pauseAfterFailureMs(failures++)));
    // Documents this writer may write, with the version it last saw; a shared one missing here is read first.
    const own = new Map<string, bigint>();
    const sharedKnown = new Map<string, bigint>();
    const write = async (id: string, version: bigint): Promise<void> => {
      const payload = JSON.stringify({ writer, n: sequence++, note: "é✓", epoch: state.epoch, list: [sequence] });
      const originator = { id, version };
      const next = version + 1n;
      try {
        const response =
          version === 0n
            ? await client.crud.create({ entityType: options.entityType, originator, payload }, callOptions())
            : await client.crud.update({ entityType: options.entityType, originator, payload }, callOptions());
        if (response.originator?.version !== next) {
          anomalies.push(`${id}: a write on version ${version} was acknowledged as ${response.originator?.version}`);
        }
        record(id).acked.set(next, payload);
        counts.acked++;
        failures = 0;
        if (own.has(id)) own.set(id, next);
        else sharedKnown.set(id, next);
      } catch (error) {
        const failure = ConnectError.from(error);
        if (isRefusal(failure) || failure.code === Code.AlreadyExists) {
          counts.refused++;
          // Only a shared document can be written by someone else first.
          if (own.has(id)) anomalies.push(`${id} (${client.protocol}): ${Code[failure.code]} ${failure.rawMessage}`);
          sharedKnown.delete(id);
          return;
        }
        counts.unacked++;
        const code = Code[failure.code];
        counts.unackedCodes[code] = (counts.unackedCodes[code] ?? 0) + 1;
        const versions = record(id).unacked;
        versions.set(next, [...(versions.get(next) ?? []), payload]);
        own.delete(id);
        sharedKnown.delete(id);
        await pause();
      }
    };
    const callOptions = () => ({ timeoutMs: options.timeoutMs ?? 10_000 });

    while (!state.stopped) {
      const roll = random();
      if (roll < 0.25 || own.size === 0) {
        const id = `w${writer}-${options.seed}-${sequence}`;
        own.set(id, 0n);
        await write(id, 0n);
      } else if (roll < 0.8) {
        const ids = [...own.keys()];
        const id = ids[Math.floor(random() * ids.length)]!;
        await write(id, own.get(id)!);
      } else {
        const id = shared[Math.floor(random() * shared.length)]!;
        if (!sharedKnown.has(id)) {
          try {
            const read = await client.crud.get({ entityType: options.entityType, originator: { id } }, callOptions());
            sharedKnown.set(id, read.originator?.version ?? 0n);
          } catch (error) {
            if (ConnectError.from(error).code !== Code.NotFound) {
              await pause();
              continue;
            }
            sharedKnown.set(id, 0n);
          }
        }
        await write(id, sharedKnown.get(id)!);
      }
    }
  };

  const running = options.clients.map((client, w) => runWriter(client, w));
  return {
    documents,
    anomalies,
    get epoch() {
      return state.epoch;
    },
    set epoch(value: number) {
      state.epoch = value;
    },
    count: () => ({ ...counts, unackedCodes: { ...counts.unackedCodes } }),
    async stop() {
      state.stopped = true;
      await Promise.all(running);
    },
  };
}
