/**
 * project() reading the log ahead and gathering its batches across LogsPoll messages, over an Event Store kept in
 * memory (so that the tests choose how the log is cut into messages, and break its streams) and a real PostgreSQL for
 * the read model and the position: every entry is applied once, in order, whatever the cut, the batch size, the
 * broken streams and the restarts, and the position committed is always the last entry applied.
 */
import { Code } from "@connectrpc/connect";
import fc from "fast-check";
import postgres, { type Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dropDatabase, freshDatabaseUrl } from "@eskit/test-kit/event-store.js";
import { inMemoryLog, type InMemoryLog } from "../test/in-memory-log.js";
import { project, type Projection } from "./projection.js";
import { readProjectionPosition } from "./projection-table.js";

const postgresUrl = process.env["DATABASE_URL"];
const skipReason = postgresUrl ? "" : " (skipped: needs PostgreSQL, set DATABASE_URL)";

describe.skipIf(!postgresUrl)(`project() gathering batches across LogsPoll messages${skipReason}`, () => {
  let url: string;
  let sql: Sql;
  let runs = 0;

  beforeAll(async () => {
    url = await freshDatabaseUrl(postgresUrl);
    sql = postgres(url, { max: 4, onnotice: () => {} });
  });
  afterAll(async () => {
    await sql?.end({ timeout: 5 });
    if (url !== undefined) await dropDatabase(url);
  });

  /** `log`'s messages cut to the sizes of `sizes`, one after the other, round and round. */
  function cutInto(log: InMemoryLog, sizes: number[]): void {
    let next = 0;
    Object.defineProperty(log, "chunkSize", { get: () => sizes[next++ % sizes.length] });
  }

  /**
   * Projects `log` into a table of its own that numbers each row as it is inserted (an entry applied twice shows as
   * two rows, out of order as a row out of sequence); `calls` records each handler call's position and ids.
   */
  function projecting(
    name: string,
    log: InMemoryLog,
    batchSize: number,
    calls: Array<{ from: bigint; ids: bigint[] }>,
  ) {
    return project({
      transport: log.transport(),
      database: sql,
      name,
      batchSize,
      reportPosition: false,
      reconnect: { initialDelayMs: 1, maxDelayMs: 5 },
      statusIntervalMs: 20,
      setup: (tx) => tx`create table if not exists ${tx(name)} (seq bigserial primary key, log_id bigint not null)`,
      handle: async (entries, tx, context) => {
        calls.push({ from: context.position, ids: entries.map((e) => e.id) });
        await tx`insert into ${tx(name)} ${tx(
          entries.map((e) => ({ log_id: String(e.id) })),
          "log_id",
        )}`;
      },
    });
  }

  async function until(projection: Projection, done: () => boolean): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (!done()) {
      if (projection.status().state === "failed") await projection.done;
      if (Date.now() > deadline) throw new Error(`timed out at ${projection.status().position}`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  const appliedIds = async (table: string) =>
    (await sql<Array<{ id: string }>>`select log_id::text as id from ${sql(table)} order by seq`).map((r) =>
      BigInt(r.id),
    );

  it("applies every entry once, in order, committing each batch's last entry, whatever the messages, batch size, broken streams and restarts", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ count: fc.integer({ min: 1, max: 30 }), gap: fc.bigInt({ min: 0n, max: 3n }) }), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.array(fc.integer({ min: 1, max: 25 }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 3 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 2 }),
        async (appends, sizes, batchSize, faults, restartsAt) => {
          const name = `spanned_${++runs}`;
          const log = inMemoryLog();
          cutInto(log, sizes);
          const ids = appends.flatMap(({ count, gap }) => log.append(count, gap));
          for (const afterMessages of faults) log.streamFaults.push({ afterMessages, code: Code.Unavailable });
          const last = ids.at(-1)!;
          const calls: Array<{ from: bigint; ids: bigint[] }> = [];
          // Stopped (the batch in flight commits) and started again at these points of the log, then to the end.
          for (const at of [...restartsAt.sort(), 1]) {
            const stopAt = ids[Math.min(ids.length - 1, Math.floor(at * ids.length))]!;
            const projection = projecting(name, log, batchSize, calls);
            await until(projection, () => projection.status().position >= stopAt);
            const { position } = await projection.stop();
            expect(await readProjectionPosition(sql, name)).toBe(position);
            const applied = await appliedIds(name);
            expect(position).toBe(applied.at(-1));
          }
          expect(await appliedIds(name)).toEqual(ids);
          expect(await readProjectionPosition(sql, name)).toBe(last);
          // Each call from the position the one before committed, none larger than a batch.
          let position = 0n;
          for (const call of calls) {
            expect(call.from).toBe(position);
            expect(call.ids.length).toBeLessThanOrEqual(batchSize);
            position = call.ids.at(-1)!;
          }
          expect(position).toBe(last);
        },
      ),
      { numRuns: 15 },
    );
  });

  it("gathers a batch from consecutive messages when they are ready, instead of a transaction per message", async () => {
    const log = inMemoryLog();
    log.chunkSize = 1;
    const ids = log.append(60);
    const calls: Array<{ from: bigint; ids: bigint[] }> = [];
    const projection = projecting(`spanned_ready_${++runs}`, log, 20, calls);
    await until(projection, () => projection.status().position === ids.at(-1));
    await projection.stop();
    expect(calls.flatMap((c) => c.ids)).toEqual(ids);
    // One message per entry: a batch per message would make 60 transactions.
    expect(calls.length).toBeLessThanOrEqual(6);
    expect(projection.status().batches).toBe(calls.length);
  });
});
