/**
 * Reconciles what document writers recorded (see `crash-document-writers.ts`) with what the Crud Store serves: for
 * every document, `Get` at each version from 1 to the latest must return the payload acknowledged for that version,
 * or, where none was, the payload of one of the unacknowledged writes of that version; nothing else, and no
 * acknowledged version missing.
 */
import { isDeepStrictEqual } from "node:util";
import { Code, ConnectError } from "@connectrpc/connect";
import type { CrudClient } from "../harness.js";
import type { DocumentRecord } from "./crash-document-writers.js";

/** The outcome of {@link reconcileDocuments}. */
export interface DocumentReconciliation {
  /** One line per broken rule; empty when everything holds. */
  readonly problems: string[];
  /** Versions read back with `Get`; unacknowledged writes the stores kept, and those they did not. */
  readonly versionsChecked: number;
  readonly unackedKept: number;
  readonly unackedAbsent: number;
}

/** Reads every version of every document back and compares it with what the writers recorded. */
export async function reconcileDocuments(
  crud: CrudClient,
  entityType: string,
  documents: Iterable<DocumentRecord>,
): Promise<DocumentReconciliation> {
  const result = { problems: [] as string[], versionsChecked: 0, unackedKept: 0, unackedAbsent: 0 };
  const call = { timeoutMs: 30_000 };
  for (const doc of documents) {
    let latest = 0n;
    try {
      latest = (await crud.get({ entityType, originator: { id: doc.id } }, call)).originator?.version ?? 0n;
    } catch (error) {
      if (ConnectError.from(error).code !== Code.NotFound) throw error;
    }
    const highestAcked = [...doc.acked.keys()].reduce((a, b) => (b > a ? b : a), 0n);
    if (latest < highestAcked)
      result.problems.push(`${doc.id}: at version ${latest}, yet ${highestAcked} acknowledged`);
    for (let version = 1n; version <= latest; version++) {
      const read = await crud.get({ entityType, originator: { id: doc.id, version } }, call);
      result.versionsChecked++;
      const got = JSON.parse(read.payload) as unknown;
      const acked = doc.acked.get(version);
      const candidates = doc.unacked.get(version) ?? [];
      const kept = candidates.filter((c) => isDeepStrictEqual(got, JSON.parse(c))).length;
      result.unackedKept += kept;
      result.unackedAbsent += candidates.length - kept;
      if (acked !== undefined) {
        if (!isDeepStrictEqual(got, JSON.parse(acked))) {
          result.problems.push(`${doc.id}@${version}: acknowledged ${acked}, Get returns ${read.payload}`);
        }
      } else if (kept === 0) {
        result.problems.push(`${doc.id}@${version}: ${read.payload} was never acknowledged nor sent for it`);
      }
    }
    for (const [version, candidates] of doc.unacked) if (version > latest) result.unackedAbsent += candidates.length;
  }
  return result;
}
