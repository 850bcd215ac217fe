/**
 * project() reporting its position to the Event Store's ConsumerService (projection-report.ts), against a real Event
 * Store (with access control, so that a read token can be refused) and a real PostgreSQL for the read model: the
 * offset the Event Store keeps for `projection:<name>` follows the position committed in `eskit_projections`, never
 * ahead of it, and a store that does not take the reports never holds a batch back.
 */
import { randomUUID } from "node:crypto";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { beforeAll, describe, expect, it } from "vitest";
import { createConsumerClient, type ConsumerClient } from "../src/consumer-client.js";
import { project, ProjectionHandlerError, type PostgresProjectionOptions, type Projection } from "../src/projection.js";
import { finalReportTimeoutMs } from "../src/projection-report.js";
import { postgresUrl, skipReason, useProjectionFixture } from "./support/projection-fixture.js";
import { applyTicks, createTickTables } from "./support/tick-projection.js";
import { waitFor } from "./support/wait-for.js";

const fullToken = "projection-report-full-token";
const readToken = "projection-report-read-token";

describe.skipIf(!postgresUrl)(`project() reporting its position to the Event Store${skipReason}`, () => {
  const fixture = useProjectionFixture({
    poolSize: 6,
    fetchTypes: false,
    eventStore: { authTokens: [fullToken], readTokens: [readToken] },
    token: fullToken,
  });
  const { append, positionOf } = fixture;
  let consumers: ConsumerClient;
  beforeAll(() => {
    consumers = createConsumerClient(fixture.transport);
  });

  /** A transport of its own for one projection, with `interceptors` (and the full token unless told otherwise). */
  const transportWith = (interceptors: Interceptor[], token = fullToken) => fixture.connect({ token, interceptors });

  /** Projects `type` (each a name of its own) into tables prefixed with it, sleeping `batchMs` in each batch. */
  function projectTicks(type: string, options: Partial<PostgresProjectionOptions> = {}, batchMs = 0): Projection {
    const table = (base: string) => `${type.toLowerCase()}_${base}`;
    return fixture.stopAfterAll(
      project({
        ...fixture.projectionOptions(type),
        batchSize: 7,
        setup: (tx) => createTickTables(tx, { table }),
        handle: async (entries, tx, context) => {
          await applyTicks(entries, tx, { ...context, table });
          if (batchMs > 0) await tx`select pg_sleep(${batchMs / 1000})`;
        },
        ...options,
      }),
    );
  }

  /** The offset the Event Store keeps for `consumerId`; undefined while it has none. */
  const reported = async (consumerId: string) => (await consumers.getOffset(consumerId))?.offset;

  it("reports its committed position as consumer projection:<name> as it goes, never ahead of its table", async () => {
    const name = `Follow${randomUUID().slice(0, 6)}`;
    const ids = await append(name, 210);
    const projection = projectTicks(name, { reportPosition: { intervalMs: 100 } }, 15);
    const seen: bigint[] = [];
    while (projection.status().position !== ids.at(-1)) {
      // Read the report first: the table's position only grows, so whatever it is a moment later bounds the report.
      const offset = await reported(`projection:${name}`);
      if (offset !== undefined) {
        expect(offset).toBeLessThanOrEqual(await positionOf(name));
        if (seen.at(-1) !== offset) seen.push(offset);
      }
      expect(projection.status().state).not.toBe("failed");
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await waitFor(async () => (await reported(`projection:${name}`)) === ids.at(-1), "the last position's report");
    // It followed the projection (the start at 0, then positions as batches committed), not only its end.
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(seen).toEqual([...seen].sort((a, b) => (a < b ? -1 : 1)));
    expect(seen.every((offset) => offset === 0n || ids.includes(offset))).toBe(true);
    const listed = (await consumers.listConsumers({})).consumers.find((c) => c.consumerId === `projection:${name}`);
    expect(listed?.offset).toBe(ids.at(-1));
    await projection.stop();
  });

  it("reports the last committed position when stopped, even before its interval comes", async () => {
    const name = `Stop${randomUUID().slice(0, 6)}`;
    const ids = await append(name, 30);
    const projection = projectTicks(name, { reportPosition: { intervalMs: 3_600_000 } });
    await waitFor(() => projection.status().position === ids.at(-1), "the projection to catch up");
    expect(await reported(`projection:${name}`)).toBeUndefined();
    expect(await projection.stop()).toMatchObject({ position: ids.at(-1) });
    expect(await reported(`projection:${name}`)).toBe(ids.at(-1));
    expect(await positionOf(name)).toBe(ids.at(-1));
  });

  it("leaves a failed projection's report on the position before the failed batch, as its table does", async () => {
    const name = `Fail${randomUUID().slice(0, 6)}`;
    const ids = await append(name, 40);
    const poison = ids[25]!;
    const projection = projectTicks(name, {
      reportPosition: { consumerId: `custom-${name}`, intervalMs: 50 },
      handle: async (entries, tx, context) => {
        await applyTicks(entries, tx, { ...context, table: (base) => `${name.toLowerCase()}_${base}` });
        if (entries.some((e) => e.id === poison)) throw new Error(`cannot project ${poison}`);
      },
    });
    const error = await projection.done.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProjectionHandlerError);
    const { position } = error as ProjectionHandlerError;
    expect(position).toBeLessThan(poison);
    expect(await positionOf(name)).toBe(position);
    expect(await reported(`custom-${name}`)).toBe(position);
    expect(await reported(`projection:${name}`)).toBeUndefined();
  });

  it("applies batch after batch while its reports go unanswered, one at a time, and stops within the final report's bound", async () => {
    const name = `Silent${randomUUID().slice(0, 6)}`;
    const ids = await append(name, 210);
    const saves: Array<{ at: number; settled: boolean }> = [];
    // A SaveOffset the network swallows: it neither reaches the store nor ends, until the caller gives up on it.
    const swallow: Interceptor = (next) => (request) => {
      if (request.method.name !== "SaveOffset") return next(request);
      const save = { at: Date.now(), settled: false };
      saves.push(save);
      return new Promise<never>((_, reject) =>
        request.signal.addEventListener(
          "abort",
          () => {
            save.settled = true;
            reject(new ConnectError("the call was given up", Code.Canceled));
          },
          { once: true },
        ),
      );
    };
    const batches: number[] = [];
    const warnings: string[] = [];
    const projection = projectTicks(name, {
      transport: transportWith([swallow]),
      reportPosition: { intervalMs: 20 },
      callOptions: { timeoutMs: 600_000 },
      logger: { info: () => {}, warn: (_fields, message) => void warnings.push(message), error: () => {} },
      handle: async (entries, tx, context) => {
        batches.push(Date.now());
        await applyTicks(entries, tx, { ...context, table: (base) => `${name.toLowerCase()}_${base}` });
        await tx`select pg_sleep(0.01)`;
      },
    });
    await waitFor(() => projection.status().position === ids.at(-1), "the projection to catch up");
    expect(saves.length).toBe(1);
    expect(saves[0]!.settled).toBe(false);
    // 30 batches of 7 (more if the stream split them); all but the few before the first report was due ran while it hung.
    expect(batches.length).toBeGreaterThanOrEqual(30);
    expect(batches.filter((at) => at >= saves[0]!.at).length).toBeGreaterThanOrEqual(20);
    const stopping = Date.now();
    await projection.stop();
    expect(Date.now() - stopping).toBeLessThan(finalReportTimeoutMs + 3000);
    expect(saves[0]!.settled).toBe(true);
    expect(warnings).toContain("projection: could not report its last position to the Event Store");
    expect(await reported(`projection:${name}`)).toBeUndefined();
  });

  it("runs on with a read token, which may not save offsets: the refusal is logged once and not sent again", async () => {
    const name = `ReadOnly${randomUUID().slice(0, 6)}`;
    const ids = await append(name, 60);
    let saves = 0;
    const count: Interceptor = (next) => (request) => {
      if (request.method.name === "SaveOffset") saves++;
      return next(request);
    };
    const warnings: Array<{ fields: object; message: string }> = [];
    const projection = projectTicks(name, {
      transport: transportWith([count], readToken),
      reportPosition: { intervalMs: 20 },
      logger: { info: () => {}, warn: (fields, message) => void warnings.push({ fields, message }), error: () => {} },
    });
    await waitFor(() => projection.status().position === ids.at(-1), "the projection to catch up");
    await projection.stop();
    expect(saves).toBe(1);
    expect(warnings).toEqual([
      {
        fields: {
          projection: name,
          consumerId: `projection:${name}`,
          err: expect.stringContaining("permission_denied"),
        },
        message: "projection: the Event Store refused its position report; it reports no more",
      },
    ]);
    expect(await reported(`projection:${name}`)).toBeUndefined();
    expect(await positionOf(name)).toBe(ids.at(-1));
  });

  it("reports nothing when told not to", async () => {
    const name = `Off${randomUUID().slice(0, 6)}`;
    const ids = await append(name, 10);
    const projection = projectTicks(name, { reportPosition: false });
    await waitFor(() => projection.status().position === ids.at(-1), "the projection to catch up");
    await projection.stop();
    expect(await reported(`projection:${name}`)).toBeUndefined();
  });
});
