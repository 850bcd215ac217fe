import { isDeepStrictEqual } from "node:util";
import type { WindowProbe } from "./closed-loop.js";
import type { BenchConfig } from "./config.js";
import type { CrudBenchConfig } from "./crud-config.js";
import { type Doc, smallDocument } from "./crud-documents.js";
import { type CrudStack, connectCrud, connectEventStore } from "./crud-stack.js";
import { type StackCpu, formatStackCpu } from "./stack-cpu.js";
import { count, ratio } from "./stats.js";
import { progress } from "./table.js";
import type { TableSpec } from "./table-spec.js";

const entityType = "bench.Listed";
const pageSize = 1000;

/** One full pass over the documents: ids in the order they came, payloads ("" when skipped), and its timing. */
interface Pass {
  readonly ids: string[];
  readonly payloads: string[];
  readonly seconds: number;
  readonly cpu: StackCpu;
}

/**
 * List over `listEntities` documents (created through the Crud Store at `concurrency`): time to page through all of
 * them with limit 1000, with payloads and with skip_payload, against the Event Store's ListOriginators over the same
 * originators (what a List page starts from). Each pass is checked before it counts: every id exactly once, in
 * ascending order, and each payload equal to the document created.
 */
export async function measureList(
  config: BenchConfig,
  crudConfig: CrudBenchConfig,
  stack: CrudStack,
): Promise<TableSpec> {
  const n = crudConfig.listEntities;
  const crud = connectCrud(stack.crud.url);
  // The other Crud Store of the stack created none of the documents, and List keeps none: it reads every one.
  const cold = connectCrud(stack.crudNoSnapshots.url);
  const eventStore = connectEventStore(stack.eventStore.url);
  try {
    progress(`crud: seeding ${n} documents at concurrency 32`);
    const seedStart = performance.now();
    const created = await seed(crud.client, n, 32);
    const seedSeconds = (performance.now() - seedStart) / 1000;
    const expectedIds = [...created.keys()].sort(compareIds);
    const passes = { full: [] as Pass[], cold: [] as Pass[], skip: [] as Pass[], raw: [] as Pass[] };
    for (let round = 0; round < crudConfig.listRounds; round++) {
      progress(`crud: List round ${round + 1} of ${crudConfig.listRounds}`);
      // Every page of the type through `client`, in order: the ids and payloads it answered.
      const listAll = (client: typeof crud.client, skipPayload: boolean) =>
        timed(stack.meter, async (ids, payloads) => {
          for (let token = "", first = true; first || token !== ""; first = false) {
            const page = await client.list({ entityType, pageToken: token, limit: pageSize, skipPayload });
            for (const r of page.results) (ids.push(r.originator?.id ?? ""), payloads.push(r.payload));
            token = page.nextPageToken;
          }
        });
      passes.full.push(await listAll(crud.client, false));
      passes.cold.push(await listAll(cold.client, false));
      passes.skip.push(await listAll(crud.client, true));
      passes.raw.push(
        await timed(stack.meter, async (ids) => {
          for (let after = "", first = true; first || after !== ""; first = false) {
            const page = await eventStore.client.listOriginators({
              entityType,
              afterId: after,
              limit: pageSize,
              excludeLastAction: "Deleted",
            });
            for (const o of page.originators) ids.push(o.id);
            after = page.nextAfterId;
          }
        }),
      );
      for (const [name, list] of Object.entries(passes))
        check(name, list.at(-1)!, expectedIds, name === "full" || name === "cold" ? created : undefined);
    }
    const best = (list: Pass[]) => list.reduce((a, b) => (b.seconds < a.seconds ? b : a));
    const raw = best(passes.raw);
    const row = (name: string, list: Pass[]) => {
      const p = best(list);
      return [
        name,
        count(n / p.seconds),
        (p.seconds * 1000).toFixed(0),
        list.map((x) => count(n / x.seconds)).join(", "),
        formatStackCpu(p.cpu),
        list === passes.raw ? "1.00×" : ratio(n / p.seconds, n / raw.seconds),
      ];
    };
    return {
      title: `4c. Crud Store List: all ${count(n)} documents of a type, pages of ${pageSize}`,
      columns: [
        { title: "pass", align: "left" },
        { title: "docs/s (best)" },
        { title: "ms (best)" },
        { title: "all rounds docs/s" },
        { title: "CPU% cli/crud/es/pg" },
        { title: "vs ListOriginators" },
      ],
      rows: [
        row("List with payloads (the Crud Store that created them)", passes.full),
        row("List with payloads, another replica (none cached)", passes.cold),
        row("List skip_payload", passes.skip),
        row("Event Store ListOriginators (baseline)", passes.raw),
      ],
      notes: [
        `each pass checked: exactly ${count(n)} ids, none repeated, in ascending order, the ids the Creates answered; with payloads, each equal to the document created`,
        `seeding: ${count(n)} Creates at concurrency 32 took ${seedSeconds.toFixed(1)} s (${count(n / seedSeconds)} creates/s)`,
        "a List page = one ListOriginators, then, with payloads, each document at its listed version: from the Crud Store's recent states when they hold that version (the replica that created the documents holds them all: ESKIT_DOCUMENT_CACHE_MAX_BYTES), the others read in one BatchGetEvents (from their latest snapshots)",
      ],
    };
  } finally {
    crud.close();
    cold.close();
    eventStore.close();
  }
}

/** Creates `n` small documents with `concurrency` writers; the documents by the id each Create answered. */
async function seed(
  client: ReturnType<typeof connectCrud>["client"],
  n: number,
  concurrency: number,
): Promise<Map<string, Doc>> {
  const created = new Map<string, Doc>();
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const doc = smallDocument(next++);
      const response = await client.create({ entityType, payload: JSON.stringify(doc) });
      const id = response.originator?.id ?? "";
      if (id === "" || created.has(id)) throw new Error(`Create answered the id "${id}" twice or none`);
      created.set(id, doc);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return created;
}

async function timed(
  probe: WindowProbe<StackCpu>,
  pass: (ids: string[], payloads: string[]) => Promise<void>,
): Promise<Pass> {
  const ids: string[] = [];
  const payloads: string[] = [];
  await probe.start();
  const start = performance.now();
  await pass(ids, payloads);
  const seconds = (performance.now() - start) / 1000;
  return { ids, payloads, seconds, cpu: await probe.stop() };
}

/** Throws unless `pass` listed exactly `expectedIds` in order, and (when `docs` is given) each document as created. */
function check(
  name: string,
  pass: Pass,
  expectedIds: readonly string[],
  docs: ReadonlyMap<string, Doc> | undefined,
): void {
  if (new Set(pass.ids).size !== pass.ids.length) throw new Error(`List (${name}) repeated an id`);
  if (pass.ids.length !== expectedIds.length)
    throw new Error(`List (${name}) gave ${pass.ids.length} documents, not ${expectedIds.length}`);
  pass.ids.forEach((id, i) => {
    if (id !== expectedIds[i])
      throw new Error(`List (${name}) gave ${id} at position ${i}, expected ${expectedIds[i]}`);
    if (docs !== undefined && !isDeepStrictEqual(JSON.parse(pass.payloads[i]!), docs.get(id))) {
      throw new Error(`List (${name}) gave another document for ${id}`);
    }
  });
}

/** Id order of the Event Store for the ids Create generates: lowercase UUIDs sort alike by code unit and by any usual collation. */
function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
