import { Code, ConnectError } from "@connectrpc/connect";
import type { AppLogEntry } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import { describe, expect, it } from "vitest";
import { inMemoryLog, type InMemoryLog } from "../test/in-memory-log.js";
import { createLogConsumer, type ConsumeOptions, type ConsumeSummary } from "./consume.js";

const fast = { reconnect: { initialDelayMs: 1, maxDelayMs: 5 } } satisfies Partial<ConsumeOptions>;

async function waitFor(condition: () => boolean, what: string, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Runs `consume` in the background, recording each entry id handled, until `stop()`. */
function running(log: InMemoryLog, options: ConsumeOptions, handler?: (entry: AppLogEntry) => unknown) {
  const ids: bigint[] = [];
  const controller = new AbortController();
  const done = createLogConsumer(log.transport()).consume(
    options,
    async (entry) => {
      await handler?.(entry);
      ids.push(entry.id);
    },
    { signal: controller.signal },
  );
  done.catch(() => {});
  return {
    ids,
    done,
    stop: (): Promise<ConsumeSummary> => {
      controller.abort();
      return done;
    },
  };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => BigInt(from + i));

describe("consume", () => {
  it("delivers every entry once in log order, saves every saveEveryEntries entries and on stop", async () => {
    const log = inMemoryLog();
    log.append(10);
    const consumer = running(log, { consumerId: "c", saveEveryEntries: 4, saveIntervalMs: 60_000, ...fast });
    await waitFor(() => consumer.ids.length === 10, "10 entries");
    // Entries handled while a save is in flight are covered by the next one, so the saves need not fall on 4 and 8.
    await waitFor(() => log.offsets.get("c") === 8n || log.offsets.get("c") === 10n, "a save past 8");
    expect(await consumer.stop()).toEqual({ offset: 10n, handled: 10 });
    expect(consumer.ids).toEqual(range(1, 10));
    const saves = log.savedOffsets.get("c")!;
    expect(saves[0]).toBe(4n);
    expect(saves.at(-1)).toBe(10n);
    expect(saves.length).toBeLessThanOrEqual(3);
    saves.slice(1, -1).forEach((offset, i) => expect(offset - saves[i]!).toBeGreaterThanOrEqual(4n));
    expect([...saves].sort((a, b) => Number(a - b))).toEqual(saves);
  });

  it("saves a handled entry's offset within saveIntervalMs even when no more entries come", async () => {
    const log = inMemoryLog();
    log.append(2);
    const consumer = running(log, { consumerId: "c", saveIntervalMs: 30, ...fast });
    await waitFor(() => consumer.ids.length === 2, "2 entries");
    await waitFor(() => log.offsets.get("c") === 2n, "the offset saved by the timer", 500);
    await consumer.stop();
    expect(log.savedOffsets.get("c")).toEqual([2n]);
  });

  it('start "saved" resumes right after the saved offset; gaps in the ids are fine', async () => {
    const log = inMemoryLog();
    log.append(5);
    log.append(3, 10n); // ids 16, 17, 18
    log.offsets.set("c", 4n);
    const consumer = running(log, { consumerId: "c", ...fast });
    await waitFor(() => consumer.ids.length === 4, "4 entries");
    expect(await consumer.stop()).toEqual({ offset: 18n, handled: 4 });
    expect(log.pollFromIds).toEqual([5n]);
    expect(consumer.ids).toEqual([5n, 16n, 17n, 18n]);
  });

  it('start "beginning" ignores the saved offset; start "end" sees only later entries and saves nothing until one', async () => {
    const log = inMemoryLog();
    log.append(5);
    log.offsets.set("c", 3n);
    const fromStart = running(log, { consumerId: "c", start: "beginning", ...fast });
    await waitFor(() => fromStart.ids.length === 5, "5 entries");
    expect(await fromStart.stop()).toEqual({ offset: 5n, handled: 5 });
    expect(fromStart.ids).toEqual(range(1, 5));

    log.offsets.set("c", 1n);
    const idle = running(log, { consumerId: "c", start: "end", ...fast });
    await waitFor(() => log.openStreams === 1, "the stream");
    expect(await idle.stop()).toEqual({ offset: 0n, handled: 0 });
    expect(log.offsets.get("c")).toBe(1n);

    const fromEnd = running(log, { consumerId: "c", start: "end", ...fast });
    await waitFor(() => log.openStreams === 1, "the stream");
    log.append(2);
    await waitFor(() => fromEnd.ids.length === 2, "2 new entries");
    expect(await fromEnd.stop()).toEqual({ offset: 7n, handled: 2 });
    expect(fromEnd.ids).toEqual([6n, 7n]);
    expect(log.pollFromIds.at(-1)).toBe(6n);
  });

  it("reopens a failed or ended stream at the last handled id + 1: nothing skipped, nothing repeated", async () => {
    const log = inMemoryLog();
    log.append(20);
    log.streamFaults.push(
      { afterMessages: 2, code: Code.Unavailable },
      { afterMessages: 1 }, // a clean end
      { afterMessages: 0, code: Code.Internal },
      { afterMessages: 1, code: Code.Aborted },
    );
    const reconnects: Array<[Code, number]> = [];
    const consumer = running(log, {
      consumerId: "c",
      ...fast,
      onReconnect: (error, _delay, attempt) => reconnects.push([ConnectError.from(error).code, attempt]),
    });
    await waitFor(() => consumer.ids.length === 20, "20 entries");
    log.append(1);
    await waitFor(() => consumer.ids.length === 21, "the live entry");
    await consumer.stop();
    expect(consumer.ids).toEqual(range(1, 21));
    expect(log.pollFromIds).toEqual([1n, 7n, 10n, 10n, 13n]);
    // The attempt count grows while no message gets through, and starts again after one does.
    expect(reconnects).toEqual([
      [Code.Unavailable, 1],
      [Code.Unavailable, 1],
      [Code.Internal, 2],
      [Code.Aborted, 1],
    ]);
  });

  it("counts consecutive failures in onReconnect and waits at most maxDelayMs", async () => {
    const log = inMemoryLog();
    log.append(1);
    log.streamFaults.push(...Array.from({ length: 6 }, () => ({ afterMessages: 0, code: Code.Unavailable })));
    const calls: Array<{ delay: number; attempt: number }> = [];
    const consumer = running(log, {
      consumerId: "c",
      reconnect: { initialDelayMs: 1, maxDelayMs: 4 },
      onReconnect: (_e, delay, attempt) => calls.push({ delay, attempt }),
    });
    await waitFor(() => consumer.ids.length === 1, "the entry");
    await consumer.stop();
    expect(calls.map((c) => c.attempt)).toEqual([1, 2, 3, 4, 5, 6]);
    for (const { delay } of calls) expect(delay).toBeLessThanOrEqual(4);
  });

  it("retries a start-up call that failed transiently", async () => {
    const log = inMemoryLog();
    log.append(3);
    log.offsets.set("c", 1n);
    log.startFaults.push(Code.Unavailable, Code.DeadlineExceeded);
    const consumer = running(log, { consumerId: "c", ...fast });
    await waitFor(() => consumer.ids.length === 2, "2 entries");
    await consumer.stop();
    expect(consumer.ids).toEqual([2n, 3n]);
  });

  it("rejects with invalid_argument for a bad selector, without reconnecting", async () => {
    const log = inMemoryLog();
    const consumer = running(log, { consumerId: "c", selector: "bad selector", ...fast });
    await expect(consumer.done).rejects.toMatchObject({ code: Code.InvalidArgument });
    expect(log.pollFromIds).toEqual([1n]);
  });

  it("rejects bad options before calling anything", async () => {
    const log = inMemoryLog();
    const consumer = createLogConsumer(log.transport());
    await expect(consumer.consume({ consumerId: "" }, () => {})).rejects.toMatchObject({ code: Code.InvalidArgument });
    await expect(consumer.consume({ consumerId: "x".repeat(256) }, () => {})).rejects.toMatchObject({
      code: Code.InvalidArgument,
    });
    await expect(consumer.consume({ consumerId: "c", saveEveryEntries: 0 }, () => {})).rejects.toBeInstanceOf(
      RangeError,
    );
    await expect(consumer.consume({ consumerId: "c", handlerRetries: 1.5 }, () => {})).rejects.toBeInstanceOf(
      RangeError,
    );
    await expect(
      consumer.consume({ consumerId: "c", reconnect: { initialDelayMs: 50, maxDelayMs: 10 } }, () => {}),
    ).rejects.toBeInstanceOf(RangeError);
    expect(log.pollFromIds).toEqual([]);
  });

  it("a throwing handler stops the consumer with its error; the saved offset is the entry before", async () => {
    const log = inMemoryLog();
    log.append(10);
    const boom = new Error("cannot handle 7");
    const consumer = running(log, { consumerId: "c", saveIntervalMs: 60_000, ...fast }, (e) => {
      if (e.id === 7n) throw boom;
    });
    await expect(consumer.done).rejects.toBe(boom);
    expect(consumer.ids).toEqual(range(1, 6));
    expect(log.offsets.get("c")).toBe(6n);
    await log.whenStreamsClosed();
  });

  it("handlerRetries: a handler failing twice then succeeding goes on; failing more rejects", async () => {
    const log = inMemoryLog();
    log.append(5);
    const failures = new Map<bigint, number>();
    const flaky = (limit: number) => (e: AppLogEntry) => {
      const n = failures.get(e.id) ?? 0;
      if (e.id === 3n && n < limit) {
        failures.set(e.id, n + 1);
        throw new Error(`attempt ${n + 1} at 3`);
      }
    };
    const patient = running(log, { consumerId: "c", handlerRetries: 2, ...fast }, flaky(2));
    await waitFor(() => patient.ids.length === 5, "5 entries");
    expect(await patient.stop()).toEqual({ offset: 5n, handled: 5 });
    expect(patient.ids).toEqual(range(1, 5));
    expect(failures.get(3n)).toBe(2);

    failures.clear();
    const impatient = running(log, { consumerId: "d", handlerRetries: 2, ...fast }, flaky(3));
    await expect(impatient.done).rejects.toThrow("attempt 3 at 3");
    expect(log.offsets.get("d")).toBe(2n);
  });

  it("runs handlers one at a time", async () => {
    const log = inMemoryLog();
    log.append(12);
    let active = 0;
    let most = 0;
    const consumer = running(log, { consumerId: "c", ...fast }, async () => {
      most = Math.max(most, ++active);
      await new Promise((resolve) => setTimeout(resolve, 1));
      active--;
    });
    await waitFor(() => consumer.ids.length === 12, "12 entries");
    await consumer.stop();
    expect(most).toBe(1);
  });

  it("abort cancels the call on the server and resolves, also during a reconnection wait", async () => {
    const log = inMemoryLog();
    log.append(3);
    const consumer = running(log, { consumerId: "c", ...fast });
    await waitFor(() => consumer.ids.length === 3 && log.openStreams === 1, "a live stream");
    await consumer.stop();
    await log.whenStreamsClosed();

    log.streamFaults.push({ afterMessages: 0, code: Code.Unavailable });
    const waiting = running(log, { consumerId: "d", reconnect: { initialDelayMs: 60_000, maxDelayMs: 60_000 } });
    await waitFor(() => log.pollFromIds.length === 2, "the failed stream");
    const started = Date.now();
    await waiting.stop();
    expect(Date.now() - started).toBeLessThan(500);
  });

  it("abort during a slow handler lets it finish and saves its offset", async () => {
    const log = inMemoryLog();
    log.append(3);
    const controller = new AbortController();
    const ids: bigint[] = [];
    const summary = await createLogConsumer(log.transport()).consume(
      { consumerId: "c", ...fast },
      async (e) => {
        if (e.id === 2n) {
          controller.abort();
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        ids.push(e.id);
      },
      { signal: controller.signal },
    );
    expect(summary).toEqual({ offset: 2n, handled: 2 });
    expect(ids).toEqual([1n, 2n]);
    expect(log.offsets.get("c")).toBe(2n);
  });

  it("an already aborted signal resolves without delivering anything", async () => {
    const log = inMemoryLog();
    log.append(3);
    const handled: bigint[] = [];
    const summary = await createLogConsumer(log.transport()).consume({ consumerId: "c" }, (e) => handled.push(e.id), {
      signal: AbortSignal.abort(),
    });
    expect(summary).toEqual({ offset: 0n, handled: 0 });
    expect(handled).toEqual([]);
  });

  it("retries the final save while the store is unreachable, within finalSaveTimeoutMs", async () => {
    const log = inMemoryLog();
    log.append(3);
    let failing = 3;
    log.saveFault = () => (failing-- > 0 ? Code.Unavailable : undefined);
    const consumer = running(log, { consumerId: "c", saveIntervalMs: 60_000, ...fast });
    await waitFor(() => consumer.ids.length === 3, "3 entries");
    expect(await consumer.stop()).toEqual({ offset: 3n, handled: 3 });
    expect(log.offsets.get("c")).toBe(3n);
  });

  it("rejects when the final save keeps failing past finalSaveTimeoutMs, naming the offset", async () => {
    const log = inMemoryLog();
    log.append(3);
    log.saveFault = () => Code.Unavailable;
    const consumer = running(log, { consumerId: "c", saveIntervalMs: 60_000, finalSaveTimeoutMs: 100, ...fast });
    await waitFor(() => consumer.ids.length === 3, "3 entries");
    const started = Date.now();
    const error = await consumer.stop().then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(error?.code).toBe(Code.Unavailable);
    expect(error?.message).toContain("could not save offset 3 within 100 ms");
  });

  it("keeps consuming while saves fail transiently, and saves once the store answers again", async () => {
    const log = inMemoryLog();
    log.append(6);
    let down = true;
    log.saveFault = () => (down ? Code.Unavailable : undefined);
    const saved: bigint[] = [];
    const consumer = running(log, {
      consumerId: "c",
      saveEveryEntries: 2,
      saveIntervalMs: 10,
      ...fast,
      onOffsetSaved: (o) => saved.push(o),
    });
    await waitFor(() => consumer.ids.length === 6, "6 entries");
    down = false;
    await waitFor(() => log.offsets.get("c") === 6n, "the retried save");
    await consumer.stop();
    expect(saved.at(-1)).toBe(6n);
  });

  it("stops with the error of a callback that throws", async () => {
    const log = inMemoryLog();
    log.append(3);
    const oops = new Error("gauge not registered");
    const consumer = running(log, {
      consumerId: "c",
      saveEveryEntries: 1,
      ...fast,
      onOffsetSaved: () => {
        throw oops;
      },
    });
    await expect(consumer.done).rejects.toBe(oops);
    await log.whenStreamsClosed();
  });

  it("stops with a save error that retrying cannot fix", async () => {
    const log = inMemoryLog();
    log.append(3);
    log.saveFault = () => Code.PermissionDenied;
    const consumer = running(log, { consumerId: "c", saveEveryEntries: 1, ...fast });
    await expect(consumer.done).rejects.toMatchObject({ code: Code.PermissionDenied });
    await log.whenStreamsClosed();
  });
});

describe("consumeBatches", () => {
  it("hands over each LogsPoll response as one batch, in order, and saves the batch's last id", async () => {
    const log = inMemoryLog();
    log.chunkSize = 4;
    log.append(10);
    const batches: bigint[][] = [];
    const controller = new AbortController();
    const done = createLogConsumer(log.transport()).consumeBatches(
      { consumerId: "b", saveEveryEntries: 5, saveIntervalMs: 60_000, ...fast },
      (entries) => void batches.push(entries.map((e) => e.id)),
      { signal: controller.signal },
    );
    await waitFor(() => batches.flat().length === 10, "10 entries");
    controller.abort();
    expect(await done).toEqual({ offset: 10n, handled: 10 });
    expect(batches).toEqual([range(1, 4), range(5, 8), range(9, 10)]);
    expect(log.savedOffsets.get("b")).toEqual([8n, 10n]);
  });
});
