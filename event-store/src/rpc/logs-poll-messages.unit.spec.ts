import { fromBinary, toBinary, toJsonString } from "@bufbuild/protobuf";
import { LogsPollResponseSchema } from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import { describe, expect, it } from "vitest";
import type { LogEntry } from "../domain/event.js";
import { maxMessageBytes } from "./chunk-entries.js";
import { logsPollMessages } from "./logs-poll-messages.js";
import { presetBinaryOf, presetJsonOf } from "@eskit/server-kit/http/rpc-lane.js";
import { logRowOf } from "../../test/support/log-entry-arbitrary.js";
import { keepRowJson } from "./log-entry-json.js";

/** The JSON text preset on a message (the lane takes it as a string or as its UTF-8 bytes). */
function jsonTextOf(message: object): string | undefined {
  const json = presetJsonOf(message);
  return json === undefined || typeof json === "string" ? json : Buffer.from(json).toString("utf8");
}

// A LogsPoll message is bounded by its size on the wire, not by the string length of its payloads: CJK text takes
// 3 UTF-8 bytes per UTF-16 code unit, so counting code units let a "3 MiB" message reach about 9 MiB.

const MiB = 1024 * 1024;

function entries(count: number, payloadBytes: number): LogEntry[] {
  // "漢" is 3 bytes in UTF-8 and one code unit in JavaScript.
  const payload = JSON.stringify("漢".repeat(Math.floor((payloadBytes - 2) / 3)));
  return Array.from({ length: count }, (_, i) => ({
    id: BigInt(i + 1),
    event: {
      originatorId: `o-${i}`,
      version: 1n,
      eventType: "Text.Written",
      entityType: "Text",
      action: "Written",
      payload,
      metadata: {},
      occurredOn: { seconds: 1_700_000_000n, nanos: 0 },
      eventId: "00000000-0000-4000-8000-000000000000",
    },
  }));
}

const wireBytes = (binary: boolean, message: Parameters<typeof toBinary<typeof LogsPollResponseSchema>>[1]) =>
  binary
    ? toBinary(LogsPollResponseSchema, message).length
    : Buffer.byteLength(toJsonString(LogsPollResponseSchema, message));

describe("logsPollMessages", () => {
  for (const binary of [true, false]) {
    const protocol = binary ? "protobuf" : "JSON";

    it(`keeps every ${protocol} message within ${maxMessageBytes} bytes on the wire with 100 KB CJK payloads, entries in order`, () => {
      const all = entries(40, 100_000);
      const messages = [...logsPollMessages(all, false, binary)];
      expect(messages.length).toBeGreaterThan(1);
      // JSON's wrapper `{"entries":[…]}` adds a few bytes around the entries.
      for (const m of messages) expect(wireBytes(binary, m)).toBeLessThanOrEqual(maxMessageBytes + 16);
      const ids = messages.flatMap((m) =>
        binary ? fromBinary(LogsPollResponseSchema, toBinary(LogsPollResponseSchema, m)).entries : m.entries,
      );
      expect(ids.map((e) => e.id)).toEqual(all.map((e) => e.id));
    });

    it(`sends a 1 MiB CJK payload alone, under 4 MiB (${protocol})`, () => {
      const messages = [...logsPollMessages(entries(8, MiB), true, binary)];
      expect(messages).toHaveLength(8);
      for (const m of messages) expect(wireBytes(binary, m)).toBeLessThan(MiB + 1024);
    });
  }

  it("presets on each JSON message exactly the text protobuf-es writes for it, and in the lane the same text alone", () => {
    const all = entries(40, 20_000);
    const full = [...logsPollMessages(all, false, false)];
    const lane = [...logsPollMessages(all, true, false, maxMessageBytes, true)];
    expect(lane).toHaveLength(full.length);
    full.forEach((m, i) => {
      const text = jsonTextOf(m);
      expect(text).toBe(toJsonString(LogsPollResponseSchema, m));
      expect(jsonTextOf(lane[i]!)).toBe(text);
      expect(lane[i]!.entries).toEqual([]);
    });
  });

  it("sends a JSON stream's rows kept as their text (keepRowJson) exactly as protobuf-es writes their entries", () => {
    const all = entries(40, 20_000).map((e, i): LogEntry => ({
      ...e,
      event: { ...e.event, metadata: i % 2 === 0 ? {} : { source: "bench", "7": "seven" } },
    }));
    const kept = all.map((e) => keepRowJson(logRowOf(e), e.id));
    // protobuf-es's text of each message the full path builds for the entries themselves.
    const expected = [...logsPollMessages(all, false, false)];
    expect(expected.length).toBeGreaterThan(1);
    for (const lane of [false, true]) {
      const sent = [...logsPollMessages(kept, false, false, maxMessageBytes, lane)];
      expect(sent.map(jsonTextOf)).toEqual(expected.map((m) => toJsonString(LogsPollResponseSchema, m)));
      // Off the lane, connect-es serializes the message itself: its entries are the entries the rows stand for.
      if (!lane) sent.forEach((m, i) => expect(m.entries).toEqual(expected[i]!.entries));
    }
  });

  it("presets on each protobuf message in the lane exactly the bytes the full path's message encodes to", () => {
    for (const shared of [false, true]) {
      const all = entries(40, 20_000);
      const full = [...logsPollMessages(all, shared, true)];
      const lane = [...logsPollMessages(all, shared, true, maxMessageBytes, true)];
      expect(lane).toHaveLength(full.length);
      full.forEach((m, i) => {
        expect(Buffer.from(presetBinaryOf(lane[i]!)!).toString("hex")).toBe(
          Buffer.from(toBinary(LogsPollResponseSchema, m)).toString("hex"),
        );
        expect(lane[i]!.entries).toEqual([]);
      });
    }
  });

  it("builds the lane's messages for the tail's entries once: streams given the same entry objects share them", () => {
    const ring = entries(30, 20_000);
    for (const binary of [true, false]) {
      const bytesOf = (m: Parameters<typeof presetBinaryOf>[0]) =>
        binary ? Buffer.from(presetBinaryOf(m)!).toString("hex") : jsonTextOf(m);
      // Two streams at the same place read the same entries into arrays of their own.
      const a = [...logsPollMessages(ring.slice(3, 20), true, binary, maxMessageBytes, true)];
      const b = [...logsPollMessages(ring.slice(3, 20), true, binary, maxMessageBytes, true)];
      expect(b.length).toBe(a.length);
      b.forEach((m, i) => expect(m).toBe(a[i]));
      // What a stream of its own would be sent, built afresh: the same bytes.
      const alone = [...logsPollMessages(ring.slice(3, 20), false, binary, maxMessageBytes, true)];
      expect(alone.map(bytesOf)).toEqual(a.map(bytesOf));
      // A filter that keeps other entries of the same span, the same number of them from the same first one, or
      // equal entries that are other objects: messages of their own, with their own entries.
      const filtered = [ring[3]!, ...ring.slice(5, 21)];
      const other = [...logsPollMessages(filtered, true, binary, maxMessageBytes, true)];
      expect(other[0]).not.toBe(a[0]);
      const expected = [...logsPollMessages(filtered, false, binary, maxMessageBytes, true)];
      expect(other.map(bytesOf)).toEqual(expected.map(bytesOf));
      const copies = ring.slice(3, 20).map((e) => ({ ...e }));
      expect([...logsPollMessages(copies, true, binary, maxMessageBytes, true)][0]).not.toBe(a[0]);
      // A smaller bound chunks differently: its own messages.
      const small = [...logsPollMessages(ring.slice(3, 20), true, binary, 64 * 1024, true)];
      expect(small.length).toBeGreaterThan(a.length);
    }
  });
});
