/**
 * A reader of the tick read model (tick-projection.ts) that keeps querying it through the live table names on a
 * connection of its own, as an application would while a rebuild runs and switches over. Each observation is one
 * statement, so one snapshot: the projection's position and the tables as they were together. An error (a table
 * missing for a moment) is recorded, not thrown.
 */
import type { AppLogEntry } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import postgres from "postgres";

/** What one query saw. */
export interface Observation {
  /** The projection's position in `eskit_projections`. */
  readonly position: bigint;
  /** Rows of `applied`, and distinct log ids among them (equal unless an entry was applied twice). */
  readonly rows: number;
  readonly distinct: number;
  /** The greatest log id in `applied` (0 when empty). */
  readonly last: bigint;
  /** Whether a total is at least the marker: the old model was marked so that the two can be told apart. */
  readonly marked: boolean;
}

export interface ModelReader {
  readonly observations: readonly Observation[];
  readonly errors: readonly unknown[];
  /** Stops after the query in flight; resolves when the connection is closed. */
  stop(): Promise<void>;
}

/** Starts reading projection `name`'s model, whose tables are `table("applied")` and `table("tick_totals")`. */
export function startModelReader(
  databaseUrl: string,
  name: string,
  table: (base: string) => string,
  marker: number,
): ModelReader {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  const observations: Observation[] = [];
  const errors: unknown[] = [];
  let stopping = false;
  const applied = sql(table("applied"));
  const totals = sql(table("tick_totals"));
  const run = async () => {
    while (!stopping) {
      try {
        const [row] = await sql<
          Array<{ position: string; rows: number; distinct: number; last: string; marked: boolean }>
        >`
          select
            (select position::text from eskit_projections where name = ${name}) as position,
            (select count(*)::int from ${applied}) as rows,
            (select count(distinct log_id)::int from ${applied}) as distinct,
            (select coalesce(max(log_id), 0)::text from ${applied}) as last,
            (select coalesce(max(sum), 0) >= ${marker} from ${totals}) as marked`;
        observations.push({
          position: BigInt(row!.position),
          rows: row!.rows,
          distinct: row!.distinct,
          last: BigInt(row!.last),
          marked: row!.marked,
        });
      } catch (error) {
        errors.push(error);
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  };
  const done = run();
  return {
    observations,
    errors,
    async stop() {
      stopping = true;
      await done;
      await sql.end({ timeout: 5 });
    },
  };
}

/**
 * The observations that are not an exactly-once model of the log at their position: an entry twice, the last entry
 * not the position, or not every entry of the log up to the position (a partial model). Empty when all are sound.
 */
export function unsoundObservations(observations: readonly Observation[], log: readonly AppLogEntry[]): Observation[] {
  return observations.filter(
    (o) =>
      o.rows !== o.distinct || o.last !== o.position || o.rows !== log.filter((entry) => entry.id <= o.position).length,
  );
}

/** The runs of the same `marked` value in order: `[true, false]` = the old model, then the new one, once. */
export function markedRuns(observations: readonly Observation[]): boolean[] {
  const runs: boolean[] = [];
  for (const o of observations) if (runs.at(-1) !== o.marked) runs.push(o.marked);
  return runs;
}
