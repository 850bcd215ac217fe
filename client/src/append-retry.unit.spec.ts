import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { appendWithRetries, newEventId } from "./append-retry.js";
import type { NewEvent } from "./new-event.js";

const events: NewEvent[] = [
  { originatorId: "a", version: 1n, eventType: "A.Created" },
  { originatorId: "a", version: 2n, eventType: "A.Renamed", eventId: "0b3c5e2a-4f61-4d2e-9a4f-3c1d2e5f6a7b" },
];
const fast = { initialDelayMs: 1, maxDelayMs: 1 };

/** A `send` that fails with `codes` in turn, then answers; it records what each attempt sent. */
function scripted(...codes: Code[]) {
  const sent: Array<readonly NewEvent[]> = [];
  const send = async (attempt: readonly NewEvent[]): Promise<bigint[]> => {
    sent.push(attempt);
    const code = codes[sent.length - 1];
    if (code !== undefined) throw new ConnectError("failed", code);
    return attempt.map((_, i) => BigInt(i + 1));
  };
  return { sent, send };
}

describe("appendWithRetries", () => {
  it("sends the same event ids on every attempt, giving one to each event that had none before the first", async () => {
    const { sent, send } = scripted(Code.Unavailable, Code.DeadlineExceeded, Code.Canceled);
    expect(await appendWithRetries(send, events, { retries: 3, backoff: fast })).toEqual([1n, 2n]);
    expect(sent).toHaveLength(4);
    const ids = sent.map((attempt) => attempt.map((e) => e.eventId));
    expect(ids[0]![0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/u);
    expect(ids[0]![1]).toBe(events[1]!.eventId);
    expect(ids[1]).toEqual(ids[0]);
    expect(ids[2]).toEqual(ids[0]);
    expect(ids[3]).toEqual(ids[0]);
  });

  it("gives up after `retries` and rethrows the last failure", async () => {
    const { sent, send } = scripted(Code.Unavailable, Code.Unavailable, Code.Unavailable);
    const error = await appendWithRetries(send, events, { retries: 2, backoff: fast }).catch((e: unknown) => e);
    expect(ConnectError.from(error).code).toBe(Code.Unavailable);
    expect(sent).toHaveLength(3);
  });

  it("never retries an answer that is final (a conflict, a bad request)", async () => {
    for (const code of [Code.Aborted, Code.InvalidArgument, Code.AlreadyExists, Code.ResourceExhausted]) {
      const { sent, send } = scripted(code);
      const error = await appendWithRetries(send, events, { retries: 5, backoff: fast }).catch((e: unknown) => e);
      expect(ConnectError.from(error).code).toBe(code);
      expect(sent).toHaveLength(1);
    }
  });

  it("without retries sends the events as they are (the store gives ids to those without)", async () => {
    const { sent, send } = scripted(Code.Unavailable);
    await expect(appendWithRetries(send, events)).rejects.toThrow();
    expect(sent).toEqual([events]);
  });

  it("stops retrying when the caller aborts", async () => {
    const stop = new AbortController();
    const { sent, send } = scripted(Code.Unavailable, Code.Unavailable);
    const pending = appendWithRetries(send, events, {
      retries: 5,
      backoff: { initialDelayMs: 10_000, maxDelayMs: 10_000 },
      signal: stop.signal,
    });
    setTimeout(() => stop.abort(), 20);
    await expect(pending).rejects.toThrow();
    expect(sent.length).toBeLessThanOrEqual(2);
  });

  it("refuses a negative or fractional number of retries", async () => {
    const { send } = scripted();
    for (const retries of [-1, 1.5]) {
      const error = await appendWithRetries(send, events, { retries }).catch((e: unknown) => e);
      expect(ConnectError.from(error).code).toBe(Code.InvalidArgument);
    }
  });

  it("makes distinct version 4 UUIDs", () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newEventId()));
    expect(ids.size).toBe(1000);
  });
});
