import { isDeepStrictEqual } from "node:util";
import type { BenchConfig } from "./config.js";
import type { CrudBenchConfig } from "./crud-config.js";
import { type Doc, updated, wideDocument } from "./crud-documents.js";
import { type CrudStack, connectCrud } from "./crud-stack.js";
import { interleave } from "./interleave.js";
import { count, ms, ratio, summarize, target } from "./stats.js";
import { progress } from "./table.js";
import type { TableSpec } from "./table-spec.js";

const entityType = "bench.Wide";
type CrudClient = ReturnType<typeof connectCrud>["client"];

/** A seeded document: its id, latest version and expected content. */
interface Seeded {
  readonly id: string;
  readonly version: bigint;
  readonly doc: Doc;
}

/**
 * Get latency at the latest version: A has 1 event, B has `updates` more (each changing one field of a 20-field
 * document), C as many more as puts it on the worst spot of the snapshot cycle (snapshotEvery − 1 events after the
 * last snapshot). They are read in turn, in a new random order each round, so drift of the machine hits all alike;
 * then B again, interleaved with B read through a Crud Store with snapshots off, to show what snapshots buy.
 */
export async function measureGets(
  config: BenchConfig,
  crudConfig: CrudBenchConfig,
  stack: CrudStack,
): Promise<TableSpec> {
  const crud = connectCrud(stack.crud.url);
  const plain = connectCrud(stack.crudNoSnapshots.url);
  try {
    const every = stack.snapshotEvery;
    const worst = every > 0 ? Math.ceil((crudConfig.updates + 2) / every) * every - 1 : crudConfig.updates + 1;
    progress(`crud: seeding A (1 version), B (${crudConfig.updates + 1}) and C (${worst}) versions`);
    const seedStart = performance.now();
    const [a, b, c] = await Promise.all([
      seed(crud.client, 0),
      seed(crud.client, crudConfig.updates),
      seed(crud.client, worst - 1),
    ]);
    const seedSeconds = (performance.now() - seedStart) / 1000;
    const getA = await reader(crud.client, a, "A");
    const getB = await reader(crud.client, b, "B");
    const getC = await reader(crud.client, c, "C");
    const getPlainB = await reader(plain.client, b, "B without snapshots");
    progress(`crud: Get A / B / C interleaved`);
    const [la = [], lb = [], lc = []] = await interleave([getA, getB, getC], config.warmupSeconds, config.seconds);
    progress(`crud: Get B with / without snapshots interleaved`);
    const [lb2 = [], lplain = []] = await interleave([getB, getPlainB], config.warmupSeconds, config.seconds);
    const replayed = (s: Seeded) => (every > 0 ? Number(s.version) % every : Number(s.version));
    const row = (
      name: string,
      s: Seeded,
      events: number,
      lat: number[],
      base?: { name: string; lat: number[]; goal?: string },
    ) => {
      const l = summarize(lat);
      const cells = [name, `${s.version}`, `${events}`, `${l.n}`, ms(l.p50), ms(l.p99), ms(mean(lat))];
      if (base === undefined) return [...cells, "", "", ""];
      const p50 = l.p50 / summarize(base.lat).p50;
      const avg = mean(lat) / mean(base.lat);
      const goal = base.goal === undefined ? "" : target(base.goal, p50 <= 2 && avg <= 2);
      return [...cells, `${ratio(p50, 1)} / ${ratio(avg, 1)}`, base.name, goal];
    };
    const updates = Number(b.version + c.version) - 2;
    return {
      title: `4b. Crud Store Get at the latest version: short vs long history (snapshotEvery ${every})`,
      columns: [
        { title: "document", align: "left" },
        { title: "versions" },
        { title: "events replayed" },
        { title: "gets" },
        { title: "p50 ms" },
        { title: "p99 ms" },
        { title: "mean ms" },
        { title: "vs base p50 / mean" },
        { title: "base", align: "left" },
        { title: "target", align: "left" },
      ],
      rows: [
        row("A: created only", a, 1, la),
        row(`B: + ${crudConfig.updates} updates`, b, replayed(b), lb, { name: "A", lat: la, goal: "B/A ≤ 2×" }),
        row("C: worst spot of the snapshot cycle", c, replayed(c), lc, { name: "A", lat: la, goal: "C/A ≤ 2×" }),
        row("B again (phase 2)", b, replayed(b), lb2),
        row("B via a Crud Store with snapshots off", b, Number(b.version), lplain, { name: "B again", lat: lb2 }),
      ],
      notes: [
        "phase 1 reads A, B, C in turn, phase 2 B and B-without-snapshots, each round in a new random order, for BENCH_SECONDS and at least 100 rounds; one Get at a time, one client (connect-es, binary, HTTP/2)",
        `every update changes one field of a 20-field document (~${JSON.stringify(wideDocument()).length} bytes), stored as a merge patch; ` +
          `seeding B and C (two sequential writers) took ${seedSeconds.toFixed(1)} s: ${count(updates / seedSeconds)} updates/s`,
        "events replayed = events read after the latest snapshot; every answer was checked (version, and payload equal to the expected document)",
      ],
    };
  } finally {
    crud.close();
    plain.close();
  }
}

/** Creates a wide document and updates it `updates` times, one field each; returns where it ends. */
async function seed(client: CrudClient, updates: number): Promise<Seeded> {
  let doc = wideDocument();
  const created = await client.create({ entityType, payload: JSON.stringify(doc) });
  const id = created.originator?.id ?? "";
  let version = created.originator?.version ?? 0n;
  for (let i = 1; i <= updates; i++) {
    doc = updated(doc, i);
    const response = await client.update({ entityType, originator: { id, version }, payload: JSON.stringify(doc) });
    if (response.originator?.version !== version + 1n)
      throw new Error(`update ${i} of ${id} answered version ${response.originator?.version}`);
    version++;
  }
  return { id, version, doc };
}

/**
 * A Get of the latest version of `s` that fails unless it answers the expected version and document: checked in
 * full once here, then by comparing each answer with that first payload.
 */
async function reader(client: CrudClient, s: Seeded, name: string): Promise<() => Promise<void>> {
  const get = () => client.get({ entityType, originator: { id: s.id } });
  const first = await get();
  if (first.originator?.version !== s.version || !isDeepStrictEqual(JSON.parse(first.payload), s.doc)) {
    throw new Error(`Get of ${name} answered version ${first.originator?.version} with a document other than expected`);
  }
  return async () => {
    const response = await get();
    if (response.originator?.version !== s.version || response.payload !== first.payload)
      throw new Error(`Get of ${name} answered differently`);
  };
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? NaN : values.reduce((sum, v) => sum + v, 0) / values.length;
}
