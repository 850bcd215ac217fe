import { toJsonString } from "@bufbuild/protobuf";
import { AppLogEntrySchema, EventSchema } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { testSize } from "@eskit/test-kit/test-sizes.js";
import {
  jsonableLogEntryArbitrary,
  zeroEntry,
  logEntryArbitrary as entry,
  logRowOf as rowOf,
  textArbitrary as text,
  uint64Arbitrary as uint64,
} from "../../test/support/log-entry-arbitrary.js";
import { entryBytes, JsonEntry, type LogRowText, RowEntry } from "../store/read-log-bytes.js";
import { toEventMessage, toLogEntryMessage } from "./convert.js";
import { eventJson, keepRowJson, logEntryJson, logEntryJsonBytes, logsResponseJson } from "./log-entry-json.js";
import { LogsResponseSchema } from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import { create } from "@bufbuild/protobuf";

/** protobuf-es's text for the entry, or the error it throws. */
function reference(run: () => string): string {
  try {
    return run();
  } catch (error) {
    return `throws: ${(error as Error).message}`;
  }
}

describe("logEntryJson", () => {
  it("writes exactly the text protobuf-es writes, for any entry (and throws where it throws)", () => {
    fc.assert(
      fc.property(entry, fc.boolean(), (e, shared) => {
        const expected = reference(() => toJsonString(AppLogEntrySchema, toLogEntryMessage(e)));
        expect(reference(() => logEntryJson(e))).toBe(expected);
        expect(reference(() => Buffer.from(logEntryJsonBytes(e, shared)).toString("utf8"))).toBe(expected);
        expect(reference(() => eventJson(e.event))).toBe(
          reference(() => toJsonString(EventSchema, toEventMessage(e.event))),
        );
      }),
      { numRuns: testSize(3000) },
    );
  });

  it("writes the zero values as protobuf-es does: nothing for them but the originator and the time", () => {
    const e = zeroEntry(0n);
    expect(logEntryJson(e)).toBe('{"event":{"originator":{},"occurredOn":"1970-01-01T00:00:00Z"}}');
    expect(logEntryJson(e)).toBe(toJsonString(AppLogEntrySchema, toLogEntryMessage(e)));
  });

  it("writes a Logs page as protobuf-es does, empty or not", () => {
    fc.assert(
      fc.property(
        fc.array(jsonableLogEntryArbitrary, { maxLength: 5 }),
        fc.oneof(fc.constant(0n), uint64),
        (entries, next) => {
          const message = create(LogsResponseSchema, { entries: entries.map(toLogEntryMessage), nextFromId: next });
          expect(logsResponseJson(entries, next)).toBe(toJsonString(LogsResponseSchema, message));
        },
      ),
      { numRuns: testSize(500) },
    );
  });
});

describe("keepRowJson: a JSON stream's database row kept as its text (JsonEntry)", () => {
  // Stored events only (Append refuses a "__proto__" metadata key), with event
  // types that split at a dot into the row's entity type, as appends store them, and with any other entity type.
  const storable = entry.filter((e) => !Object.hasOwn(e.event.metadata, "__proto__"));
  const split = fc.tuple(storable, text, fc.boolean()).map(([e, entityType, dotted]) => {
    const eventType = dotted ? `${entityType}.${e.event.eventType}` : e.event.eventType;
    return { ...e, event: { ...e.event, eventType, entityType, action: eventType.slice(entityType.length + 1) } };
  });
  const idOf = (row: LogRowText) => (row.log_id.length <= 15 ? Number(row.log_id) : BigInt(row.log_id));
  const utf8 = (bytes: Uint8Array) => Buffer.from(bytes).toString("utf8");

  it("sends the text the row's RowEntry sends, protobuf-es's, and weighs the same in a page's byte bound", () => {
    fc.assert(
      fc.property(fc.oneof(entry, split), (e) => {
        const row = rowOf(e);
        const kept = keepRowJson(row, idOf(row));
        const expected = reference(() => toJsonString(AppLogEntrySchema, toLogEntryMessage(e)));
        expect(reference(() => logEntryJson(new RowEntry(row)))).toBe(expected);
        expect(reference(() => logEntryJson(kept))).toBe(expected);
        expect(reference(() => utf8(logEntryJsonBytes(kept)))).toBe(expected);
        expect(entryBytes(kept)).toBe(entryBytes(new RowEntry(row)));
        // A time JSON cannot carry keeps the row, so that sending it throws as it always did.
        expect(kept instanceof JsonEntry).toBe(!expected.startsWith("throws"));
      }),
      { numRuns: testSize(3000) },
    );
  });

  it("reads metadata as PostgreSQL writes jsonb (spaces, escapes, integer-like keys first)", () => {
    const e = zeroEntry(7n, {
      version: 3n,
      occurredOn: { seconds: 1_767_225_600n, nanos: 120_000_000 },
      metadata: { source: "bench", "2": "two", 'é"': "\u0000\n☃" },
    });
    const jsonb = '{"2": "two", "source": "bench", "é\\"": "\\u0000\\n☃"}';
    expect(JSON.parse(jsonb)).toEqual(e.event.metadata);
    const row = rowOf(e, jsonb);
    const kept = keepRowJson(row, idOf(row));
    expect(logEntryJson(kept)).toBe(toJsonString(AppLogEntrySchema, toLogEntryMessage(e)));
    expect(logEntryJson(kept)).toContain('"occurredOn":"2026-01-01T00:00:00.120Z"');
    // Rows of the same second and metadata one after the other (the texts made once are reused, not mixed up).
    for (const [seconds, nanos] of [
      [1_767_225_600n, 0],
      [1_767_225_601n, 5],
      [1_767_225_600n, 999_999_999],
    ] as const) {
      const next = zeroEntry(8n, { occurredOn: { seconds, nanos }, metadata: { source: "other" } });
      const nextRow = rowOf(next);
      expect(logEntryJson(keepRowJson(nextRow, idOf(nextRow)))).toBe(
        toJsonString(AppLogEntrySchema, toLogEntryMessage(next)),
      );
    }
  });

  it("writes metadata as PostgreSQL's jsonb text orders and spaces it, as protobuf-es writes the row's event", () => {
    // jsonb keeps keys shorter first, then by their bytes, and writes `{"k": "v", …}`.
    const jsonb = (metadata: Record<string, string>) => {
      const keys = Object.keys(metadata).sort((a, b) => {
        const [x, y] = [Buffer.from(a), Buffer.from(b)];
        return x.length - y.length || Buffer.compare(x, y);
      });
      return `{${keys.map((k) => `${JSON.stringify(k)}: ${JSON.stringify(metadata[k])}`).join(", ")}}`;
    };
    fc.assert(
      fc.property(storable.filter(representable), (e) => {
        const row = rowOf(e, jsonb(e.event.metadata));
        const kept = keepRowJson(row, idOf(row));
        // The oracle: protobuf-es's text of the event the row gives (fromEventRowText), not of `e`: the key order is
        // the row's.
        expect(logEntryJson(kept)).toBe(toJsonString(AppLogEntrySchema, toLogEntryMessage(new RowEntry(row))));
      }),
      { numRuns: testSize(2000) },
    );
  });

  it("leaves a row whose nanos the column holds but a time cannot (below 0, a second or more) to the row", () => {
    for (const nanos of [-1, 1_000_000_000]) {
      const row = { ...rowOf(zeroEntry(1n)), occurred_on_nanos: nanos };
      const kept = keepRowJson(row, 1);
      expect(kept).toBeInstanceOf(RowEntry);
      expect(reference(() => logEntryJson(kept))).toMatch(/^throws: /);
    }
  });

  it("is the entry the row stands for, id and event, when they are asked for", () => {
    fc.assert(
      fc.property(fc.oneof(storable, split).filter(representable), (e) => {
        const row = rowOf(e);
        const kept = keepRowJson(row, idOf(row));
        const asRow = new RowEntry(row);
        expect(kept).toBeInstanceOf(JsonEntry);
        expect(kept.id).toBe(e.id);
        expect(kept.event).toEqual(asRow.event);
        expect(kept.event.entityType).toBe(e.event.entityType);
        expect(kept.event.action).toBe(asRow.event.action);
      }),
      { numRuns: testSize(2000) },
    );
  });
});

/** Whether JSON can carry the entry's time (0001-01-01 to 9999-12-31). */
function representable(e: { event: { occurredOn: { seconds: bigint } } }): boolean {
  return e.event.occurredOn.seconds >= -62_135_596_800n && e.event.occurredOn.seconds <= 253_402_300_799n;
}
