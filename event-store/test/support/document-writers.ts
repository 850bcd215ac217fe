/**
 * Crud Store writers for the replicas test, each on a client of one Crud Store replica. A writer creates documents of
 * its own and updates them, and updates a few shared documents that every writer, through every replica, contends
 * for. Nothing fails on purpose here, so every call must be acknowledged, except an Update of a shared document,
 * which may be refused with `aborted` (another writer took that version first; its `DocumentConflict` must name the
 * version the Update was based on). Anything else is an anomaly. Every acknowledged version's payload is recorded, so
 * that a test can check the log and each replica's reads against it.
 */
import { Code, ConnectError, documentConflictOf } from "@eskit/client";
import { mulberry32 } from "@eskit/test-kit/append-workload.js";
import type { CrudService } from "./replica-set.js";

/** Running writers. */
export interface DocumentWriters {
  /** Document id → version → the payload acknowledged for it. */
  readonly documents: ReadonlyMap<string, ReadonlyMap<bigint, string>>;
  /** Answers that nothing in the test explains: should be none. */
  readonly anomalies: readonly string[];
  /** Acknowledged writes, and Updates refused with `aborted`, so far. */
  count(): { acked: number; conflicts: number };
  /** Stops the writers after their current call and waits for them. */
  stop(): Promise<void>;
}

/** Options of {@link startDocumentWriters}. */
export interface DocumentWritersOptions {
  /** One writer per client; `replica` names the Crud Store it writes through. */
  readonly clients: ReadonlyArray<{ readonly replica: string; readonly crud: CrudService }>;
  readonly entityType: string;
  /** Prefix of every document id. */
  readonly prefix: string;
  readonly seed: number;
  readonly sharedDocuments?: number;
}

/** Creates the shared documents, then starts one writer per client; they run until {@link DocumentWriters.stop}. */
export async function startDocumentWriters(options: DocumentWritersOptions): Promise<DocumentWriters> {
  const { entityType } = options;
  const documents = new Map<string, Map<bigint, string>>();
  const anomalies: string[] = [];
  const counts = { acked: 0, conflicts: 0 };
  const state = { stopped: false };
  const shared = Array.from({ length: options.sharedDocuments ?? 2 }, (_, k) => `${options.prefix}-shared-${k}`);
  const acked = (id: string, version: bigint, payload: string) => {
    if (!documents.has(id)) documents.set(id, new Map());
    documents.get(id)!.set(version, payload);
    counts.acked++;
  };
  for (const id of shared) {
    const payload = JSON.stringify({ shared: id });
    await options.clients[0]!.crud.create({ entityType, originator: { id }, payload });
    acked(id, 1n, payload);
  }

  const runWriter = async ({ replica, crud }: DocumentWritersOptions["clients"][number], writer: number) => {
    const random = mulberry32(options.seed * 1000 + writer);
    const own = new Map<string, bigint>();
    // Versions of the shared documents as this writer last read or wrote them; missing = read it first.
    const sharedKnown = new Map<string, bigint>();
    let sequence = 0;
    while (!state.stopped) {
      const roll = random();
      const isShared = roll >= 0.6 && own.size > 0;
      const ids = [...own.keys()];
      const id =
        roll < 0.25 || own.size === 0
          ? `${options.prefix}-w${writer}-${sequence}`
          : isShared
            ? shared[Math.floor(random() * shared.length)]!
            : ids[Math.floor(random() * ids.length)]!;
      if (isShared && !sharedKnown.has(id)) {
        sharedKnown.set(id, (await crud.get({ entityType, originator: { id } })).originator?.version ?? 0n);
      }
      const version = isShared ? sharedKnown.get(id)! : (own.get(id) ?? 0n);
      // Varied bytes (non-ASCII, nesting), so that comparing documents means something.
      const payload = JSON.stringify({ writer, replica, n: sequence++, note: "é✓", at: { version: `${version}` } });
      try {
        const response =
          version === 0n
            ? await crud.create({ entityType, originator: { id }, payload })
            : await crud.update({ entityType, originator: { id, version }, payload });
        const next = response.originator?.version ?? 0n;
        if (next !== version + 1n) anomalies.push(`${id}: a write on version ${version} answered version ${next}`);
        acked(id, next, payload);
        (isShared ? sharedKnown : own).set(id, next);
      } catch (error) {
        const conflict = documentConflictOf(error);
        if (!isShared || conflict === undefined) {
          const failure = ConnectError.from(error);
          anomalies.push(`${id}@${version} through ${replica}: ${Code[failure.code]} ${failure.rawMessage}`);
          return;
        }
        counts.conflicts++;
        if (conflict.id !== id || conflict.basedOnVersion !== version) {
          anomalies.push(
            `${id}@${version} through ${replica}: conflict detail ${conflict.id}@${conflict.basedOnVersion}`,
          );
        }
        sharedKnown.delete(id);
      }
    }
  };

  const running = options.clients.map((client, writer) =>
    runWriter(client, writer).catch((error: unknown) => void anomalies.push(`writer ${writer}: ${String(error)}`)),
  );
  return {
    documents,
    anomalies,
    count: () => ({ ...counts }),
    async stop() {
      state.stopped = true;
      await Promise.all(running);
    },
  };
}
