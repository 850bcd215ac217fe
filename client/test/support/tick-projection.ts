/**
 * A read model that shows every way a projection can go wrong: `applied` gets one row per entry applied, with no
 * unique key, so an entry applied twice shows up as two rows (not as a constraint error that would hide it), and
 * `tick_totals` sums each originator's payload numbers, as a real read model would. `replayTicks` builds the same
 * model from the log in memory: the two must be equal.
 */
import type { AppLogEntry } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import type { ISql } from "postgres";
import type { ProjectionContext } from "../../src/projection.js";

/** The read model as plain values, comparable with `toEqual`. */
export interface TickModel {
  /** Log ids applied, in order, repeats included. */
  readonly applied: bigint[];
  /** Per originator: events and the sum of their payloads' `n`, sorted by originator. */
  readonly totals: Array<{ originator: string; events: number; sum: number }>;
}

export async function createTickTables(tx: ISql, context: Pick<ProjectionContext, "table">): Promise<void> {
  await tx`create table if not exists ${tx(context.table("applied"))} (log_id bigint not null, originator text not null)`;
  await tx`
    create table if not exists ${tx(context.table("tick_totals"))} (
      originator text primary key, events integer not null, sum bigint not null
    )`;
}

/** The handler: one `applied` row per entry, and the totals moved by the batch, in two statements. */
export async function applyTicks(entries: AppLogEntry[], tx: ISql, context: ProjectionContext): Promise<void> {
  const rows = entries.map((entry) => ({ log_id: String(entry.id), originator: entry.event?.originator?.id ?? "" }));
  await tx`insert into ${tx(context.table("applied"))} ${tx(rows, "log_id", "originator")}`;
  await addTickTotals(entries, tx, context);
}

/** The `tick_totals` half of {@link applyTicks}: each originator's total moved by the batch, in one statement. */
export async function addTickTotals(
  entries: AppLogEntry[],
  tx: ISql,
  context: Pick<ProjectionContext, "table">,
): Promise<void> {
  const changes = tickTotals(entries);
  const totalsTable = tx(context.table("tick_totals"));
  await tx`
    insert into ${totalsTable} ${tx(changes, "originator", "events", "sum")}
    on conflict (originator) do update
    set events = ${totalsTable}.events + excluded.events, sum = ${totalsTable}.sum + excluded.sum`;
}

/** Reads the read model back; `table` names its tables as the handler's context did. */
export async function readTicks(sql: ISql, table: (base: string) => string = (base) => base): Promise<TickModel> {
  const applied = await sql<
    Array<{ id: string }>
  >`select log_id::text as id from ${sql(table("applied"))} order by log_id`;
  const totals = await sql<Array<{ originator: string; events: number; sum: string }>>`
    select originator, events, sum::text as sum from ${sql(table("tick_totals"))} order by originator collate "C"`;
  return {
    applied: applied.map((row) => BigInt(row.id)),
    totals: totals.map((row) => ({ originator: row.originator, events: row.events, sum: Number(row.sum) })),
  };
}

/** The read model a projection of `entries` (the log as read back, filtered by the same selector) must equal. */
export function replayTicks(entries: readonly AppLogEntry[]): TickModel {
  return {
    applied: entries.map((entry) => entry.id),
    totals: tickTotals(entries).sort((a, b) =>
      a.originator < b.originator ? -1 : a.originator > b.originator ? 1 : 0,
    ),
  };
}

/** Per originator of `entries`: how many there are and the sum of their payloads' `n`, in the order first seen. */
export function tickTotals(
  entries: readonly AppLogEntry[],
): Array<{ originator: string; events: number; sum: number }> {
  const totals = new Map<string, { events: number; sum: number }>();
  for (const entry of entries) {
    const originator = entry.event?.originator?.id ?? "";
    const total = totals.get(originator) ?? { events: 0, sum: 0 };
    total.events++;
    total.sum += numberOf(entry);
    totals.set(originator, total);
  }
  return [...totals].map(([originator, t]) => ({ originator, events: t.events, sum: t.sum }));
}

function numberOf(entry: AppLogEntry): number {
  const payload = entry.event?.payload ?? "";
  if (payload === "") return 0;
  const n = (JSON.parse(payload) as { n?: unknown }).n;
  return typeof n === "number" ? n : 0;
}
