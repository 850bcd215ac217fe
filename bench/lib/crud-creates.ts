import { randomUUID } from "node:crypto";
import { type LoopResult, runClosedLoop } from "./closed-loop.js";
import type { BenchConfig } from "./config.js";
import type { CrudBenchConfig } from "./crud-config.js";
import { smallDocument } from "./crud-documents.js";
import { type CrudStack, connectCrud, connectEventStore } from "./crud-stack.js";
import { type StackCpu, formatStackCpu } from "./stack-cpu.js";
import { count, ms, ratio, summarize } from "./stats.js";
import { progress } from "./table.js";
import type { TableSpec } from "./table-spec.js";

const entityType = "bench.Customer";

/**
 * Creates/s through the Crud Store against its floor: the Event Store Append of the very event a Create writes
 * (`<type>.Created`, version 1 of a new UUID, the same document and metadata), one per request, from the same kind
 * of client at the same concurrency. The ratio is what the Crud Store adds: its own RPC hop, its reads of the Event
 * Store (the type registry) and the document checks.
 */
export async function measureCreates(
  config: BenchConfig,
  crudConfig: CrudBenchConfig,
  stack: CrudStack,
): Promise<TableSpec> {
  const rows: string[][] = [];
  let serial = 0;
  for (const concurrency of [1, crudConfig.concurrency]) {
    const crud = connectCrud(stack.crud.url);
    const eventStore = connectEventStore(stack.eventStore.url);
    const ops = {
      create: async () => {
        const response = await crud.client.create({ entityType, payload: JSON.stringify(smallDocument(serial++)) });
        if (response.originator?.version !== 1n || response.originator.id === "")
          throw new Error("Create answered no id at version 1");
        return 1;
      },
      append: async () => {
        const event = {
          originator: { id: randomUUID(), version: 1n },
          eventType: `${entityType}.Created`,
          payload: JSON.stringify(smallDocument(serial++)),
          metadata: { "eskit.source": "crud-store" },
        };
        const response = await eventStore.client.append({ events: [event] });
        if (response.logIds.length !== 1) throw new Error("Append answered no log id");
        return 1;
      },
    };
    const blocks: Record<keyof typeof ops, LoopResult<StackCpu>[]> = { create: [], append: [] };
    try {
      // A-B-B-A: two half-length blocks of each, so a steady drift of the machine weighs on both alike.
      for (const kind of ["create", "append", "append", "create"] as const) {
        progress(
          `crud: ${kind === "create" ? "Crud Store Create" : "Event Store Append (baseline)"} × c${concurrency}`,
        );
        blocks[kind].push(
          await runClosedLoop({
            concurrency,
            warmupSeconds: config.warmupSeconds / 2,
            seconds: config.seconds / 2,
            probe: stack.meter,
            op: ops[kind],
          }),
        );
      }
    } finally {
      crud.close();
      eventStore.close();
    }
    const viaCrud = merge(blocks.create);
    const raw = merge(blocks.append);
    const c = summarize(viaCrud.latencies);
    const r = summarize(raw.latencies);
    rows.push([
      `${concurrency}`,
      count(viaCrud.eventsPerSecond),
      `${ms(c.p50)} / ${ms(c.p99)}`,
      formatStackCpu(viaCrud.window),
      count(raw.eventsPerSecond),
      `${ms(r.p50)} / ${ms(r.p99)}`,
      formatStackCpu(raw.window),
      ratio(viaCrud.eventsPerSecond, raw.eventsPerSecond),
    ]);
  }
  return {
    title: `4a. Crud Store Create vs Event Store Append (1 event, ~${JSON.stringify(smallDocument(0)).length}-byte document)`,
    columns: [
      { title: "conc" },
      { title: "Create/s" },
      { title: "Create p50/p99 ms" },
      { title: "CPU% cli/crud/es/pg" },
      { title: "Append/s (baseline)" },
      { title: "Append p50/p99 ms" },
      { title: "CPU% cli/-/es/pg" },
      { title: "Create/Append" },
    ],
    rows,
    notes: [
      "measured in blocks Create, Append, Append, Create (each half of BENCH_SECONDS), pooled per kind",
      "Append = the event a Create writes, sent straight to the Event Store by the same client (connect-es, binary, one HTTP/2 connection)",
      `Create/Append = what the Crud Store adds around the same durable write: its own RPC hop, its reads of the Event Store (the type registry), its checks; "${entityType}" is not registered (no JSON Schema to check)`,
    ],
  };
}

/** One result of several blocks of a loop: their rates pooled, their latencies together, their CPU shares averaged. */
function merge(blocks: readonly LoopResult<StackCpu>[]): {
  eventsPerSecond: number;
  latencies: number[];
  window: StackCpu;
} {
  const seconds = blocks.reduce((sum, b) => sum + b.seconds, 0);
  const avg = (pick: (cpu: StackCpu) => number) =>
    blocks.reduce((sum, b) => sum + pick(b.window) * b.seconds, 0) / seconds;
  return {
    eventsPerSecond: blocks.reduce((sum, b) => sum + b.events, 0) / seconds,
    latencies: blocks.flatMap((b) => b.latencies),
    window: {
      client: avg((c) => c.client),
      crud: avg((c) => c.crud),
      eventStore: avg((c) => c.eventStore),
      postgres: avg((c) => c.postgres),
    },
  };
}
