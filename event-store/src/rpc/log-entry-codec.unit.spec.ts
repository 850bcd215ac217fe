import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter } from "@bufbuild/protobuf/wire";
import { AppLogEntrySchema } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import {
  BatchGetEventsResponseSchema,
  GetEventsResponseSchema,
  LogsPollResponseSchema,
} from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { testSize } from "@eskit/test-kit/test-sizes.js";
import type { LogEntry } from "../domain/event.js";
import {
  logEntryArbitrary as entry,
  logRowOf as rowOf,
  textArbitrary as text,
  zeroEntry,
  uint64Arbitrary as uint64,
} from "../../test/support/log-entry-arbitrary.js";
import { entryBytes, type LogRowText, RowEntry } from "../store/read-log-bytes.js";
import { toEventMessage, toLogEntryMessage } from "./convert.js";
import {
  encodeEventsResultDelimited,
  encodeLogEntryDelimited,
  keepRowEncoded,
  preEncodedBatchGetEventsResponse,
  preEncodedGetEventsResponse,
  preEncodedLogsPollResponse,
} from "./log-entry-codec.js";

/** What protobuf-es writes for the entry, length-prefixed like the codec's output. */
function reference(e: LogEntry): Uint8Array {
  return new BinaryWriter().bytes(toBinary(AppLogEntrySchema, toLogEntryMessage(e))).finish();
}

describe("encodeLogEntryDelimited", () => {
  it("writes exactly the bytes protobuf-es writes, for any entry", () => {
    fc.assert(
      fc.property(entry, (e) => {
        expect(Buffer.from(encodeLogEntryDelimited(e)).toString("hex")).toBe(Buffer.from(reference(e)).toString("hex"));
      }),
      { numRuns: testSize(2000) },
    );
  });

  it("encodes the extremes: zero values, the largest uint64, negative seconds", () => {
    const e = zeroEntry(2n ** 64n - 1n, { occurredOn: { seconds: -1n, nanos: 0 }, metadata: { "": "" } });
    expect(Buffer.from(encodeLogEntryDelimited(e))).toEqual(Buffer.from(reference(e)));
  });
});

describe("encodeLogEntryDelimited of a database row (RowEntry)", () => {
  const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
  // Any int64 the seconds column can hold, not only those JSON can write.
  const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
  const anyEntry = fc.oneof(
    entry,
    fc
      .tuple(entry, int64)
      .map(([e, seconds]) => ({ ...e, event: { ...e.event, occurredOn: { ...e.event.occurredOn, seconds } } })),
  );

  it("writes, from the row's text, exactly the bytes protobuf-es writes for the entry", () => {
    fc.assert(
      fc.property(anyEntry, (e) => {
        const row = new RowEntry(rowOf(e));
        expect(hex(encodeLogEntryDelimited(row))).toBe(hex(reference(e)));
        expect(hex(encodeLogEntryDelimited(row, true))).toBe(hex(reference(e)));
      }),
      { numRuns: testSize(2000) },
    );
  });

  it("reads metadata as PostgreSQL writes jsonb (spaces, escapes), and the extremes", () => {
    const e = zeroEntry(2n ** 64n - 1n, {
      version: 2n ** 64n - 1n,
      occurredOn: { seconds: -(2n ** 63n), nanos: 999_999_999 },
      metadata: { source: "bench", tenant: "t-001", 'é"': "\u0000\n☃" },
    });
    const jsonb = '{"source": "bench", "tenant": "t-001", "é\\"": "\\u0000\\n☃"}';
    expect(JSON.parse(jsonb)).toEqual(e.event.metadata);
    expect(hex(encodeLogEntryDelimited(new RowEntry(rowOf(e, jsonb))))).toBe(hex(reference(e)));
    // A leading U+FEFF is text, not a byte-order mark: kept in the event and in the bytes.
    const bom = zeroEntry(1n, { payload: "\uFEFF{}", originatorId: "\uFEFFo" });
    expect(new RowEntry(rowOf(bom)).event.payload).toBe("\uFEFF{}");
    expect(new RowEntry(rowOf(bom)).event.originatorId).toBe("\uFEFFo");
    expect(hex(encodeLogEntryDelimited(new RowEntry(rowOf(bom))))).toBe(hex(reference(bom)));
    for (const id of [0n, 1n, 10n ** 15n - 1n, 10n ** 15n, 2n ** 53n + 1n]) {
      const z = zeroEntry(id, { version: id, occurredOn: { seconds: id, nanos: 0 } });
      expect(hex(encodeLogEntryDelimited(new RowEntry(rowOf(z))))).toBe(hex(reference(z)));
    }
  });

  it("is the entry the row stands for, when its event is asked for", () => {
    fc.assert(
      fc.property(entry, (e) => {
        const row = new RowEntry(rowOf(e));
        expect(row.id).toBe(e.id);
        expect(toLogEntryMessage(row)).toEqual(toLogEntryMessage(e));
      }),
    );
  });
});

describe("keepRowEncoded: a binary stream's database row kept as its bytes (EncodedEntry)", () => {
  const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
  // Stored events only (Append refuses a "__proto__" metadata key; the decoder's map cannot hold one), with event
  // types that split at a dot into the row's entity type, as appends store them, and with any other entity type.
  const storable = entry.filter((e) => !Object.hasOwn(e.event.metadata, "__proto__"));
  const split = fc.tuple(storable, text, fc.boolean()).map(([e, entityType, dotted]) => {
    const eventType = dotted ? `${entityType}.${e.event.eventType}` : e.event.eventType;
    return { ...e, event: { ...e.event, eventType, entityType, action: eventType.slice(entityType.length + 1) } };
  });
  const idOf = (row: LogRowText) => (row.log_id.length <= 15 ? Number(row.log_id) : BigInt(row.log_id));

  it("sends the bytes the row's RowEntry sends, and weighs the same in a page's byte bound", () => {
    fc.assert(
      fc.property(fc.oneof(storable, split), (e) => {
        const row = rowOf(e);
        const kept = keepRowEncoded(row, idOf(row));
        expect(hex(encodeLogEntryDelimited(kept))).toBe(hex(encodeLogEntryDelimited(new RowEntry(row))));
        expect(entryBytes(kept)).toBe(entryBytes(new RowEntry(row)));
      }),
      { numRuns: testSize(2000) },
    );
  });

  it("is the entry the row stands for, id and event, when they are asked for", () => {
    fc.assert(
      fc.property(fc.oneof(storable, split), (e) => {
        const row = rowOf(e);
        const kept = keepRowEncoded(row, idOf(row));
        const asRow = new RowEntry(row);
        expect(kept.id).toBe(e.id);
        expect(kept.event).toEqual(asRow.event);
        expect(kept.event.entityType).toBe(e.event.entityType);
        expect(kept.event.action).toBe(asRow.event.action);
      }),
      { numRuns: testSize(2000) },
    );
    const extremes = zeroEntry(2n ** 64n - 1n, {
      version: 2n ** 64n - 1n,
      occurredOn: { seconds: -(2n ** 63n), nanos: 999_999_999 },
      eventType: "Order.Placed",
      entityType: "Order",
      action: "Placed",
    });
    const row = rowOf(extremes);
    expect(keepRowEncoded(row, idOf(row)).event).toEqual(new RowEntry(row).event);
  });
});

describe("preEncodedLogsPollResponse", () => {
  it("reads back as a LogsPollResponse holding the same entries", () => {
    // Only entries that can be stored: Append refuses a "__proto__" metadata key, which protobuf-es's decoder (the
    // reference here) cannot hold. The byte-for-byte property above still covers that key.
    const storable = entry.filter((e) => !Object.hasOwn(e.event.metadata, "__proto__"));
    fc.assert(
      fc.property(fc.array(storable, { maxLength: 5 }), (entries) => {
        const decoded = fromBinary(
          LogsPollResponseSchema,
          toBinary(LogsPollResponseSchema, preEncodedLogsPollResponse(entries)),
        );
        expect(decoded.entries).toEqual(entries.map(toLogEntryMessage));
        expect(decoded.$unknown).toBeUndefined();
      }),
      { numRuns: testSize(300) },
    );
  });
});

// GetEvents and BatchGetEvents answer binary protocols with the same encoder: what a client decodes must be exactly
// the ordinary message.
describe("pre-encoded GetEvents and BatchGetEvents responses", () => {
  const storable = entry.filter((e) => !Object.hasOwn(e.event.metadata, "__proto__")).map((e) => e.event);
  const snapshot = fc.option(fc.record({ version: uint64, payload: fc.oneof(text, fc.json()) }), { nil: undefined });
  const result = fc.record({ events: fc.array(storable, { maxLength: 4 }), snapshot });
  const ordinary = (r: { events: LogEntry["event"][]; snapshot: { version: bigint; payload: string } | undefined }) =>
    create(GetEventsResponseSchema, { events: r.events.map(toEventMessage), snapshot: r.snapshot });

  it("writes a result exactly as protobuf-es does", () => {
    fc.assert(
      fc.property(result, (r) => {
        const reference = new BinaryWriter().bytes(toBinary(GetEventsResponseSchema, ordinary(r))).finish();
        expect(Buffer.from(encodeEventsResultDelimited(r.events, r.snapshot)).toString("hex")).toBe(
          Buffer.from(reference).toString("hex"),
        );
      }),
      { numRuns: testSize(500) },
    );
  });

  it("reads back as the ordinary GetEventsResponse and BatchGetEventsResponse", () => {
    fc.assert(
      fc.property(fc.array(result, { maxLength: 4 }), (results) => {
        for (const r of results) {
          const one = fromBinary(
            GetEventsResponseSchema,
            toBinary(GetEventsResponseSchema, preEncodedGetEventsResponse(r.events, r.snapshot)),
          );
          expect(one).toEqual(ordinary(r));
        }
        const batch = fromBinary(
          BatchGetEventsResponseSchema,
          toBinary(BatchGetEventsResponseSchema, preEncodedBatchGetEventsResponse(results)),
        );
        expect(batch).toEqual(create(BatchGetEventsResponseSchema, { results: results.map(ordinary) }));
      }),
      { numRuns: testSize(300) },
    );
  });
});
