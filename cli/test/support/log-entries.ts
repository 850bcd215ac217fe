import { create } from "@bufbuild/protobuf";
import { AppLogEntrySchema } from "@eskit/client";
import fc from "fast-check";

/** Any string, lone surrogates included. */
export const anyText = fc.string({ unit: "binary", maxLength: 30 });
const uint64 = fc.bigInt({ min: 0n, max: 0xffff_ffff_ffff_ffffn });

/** A time protobuf's JSON can hold (0001-01-01 to 9999-12-31), with 0, 3, 6 or 9 fraction digits. */
export const jsonTimestamp = fc.record({
  seconds: fc.bigInt({ min: -62_135_596_800n, max: 253_402_300_799n }),
  nanos: fc.oneof(
    fc.constant(0),
    fc.integer({ min: 0, max: 999 }).map((ms) => ms * 1_000_000),
    fc.integer({ min: 0, max: 999_999 }).map((us) => us * 1000),
    fc.integer({ min: 0, max: 999_999_999 }),
  ),
});

/** Any log entry whose JSON protobuf can write: every field present or not, any text. */
export const anyLogEntry = fc
  .record({
    id: uint64,
    event: fc.option(
      fc.record({
        originator: fc.option(fc.record({ id: anyText, version: uint64 }), { nil: undefined }),
        eventType: anyText,
        payload: fc.oneof(anyText, fc.json()),
        occurredOn: fc.option(jsonTimestamp, { nil: undefined }),
        eventId: fc.oneof(fc.constant(""), fc.uuid()),
        metadata: fc.dictionary(anyText, anyText, { maxKeys: 4 }),
      }),
      { nil: undefined },
    ),
  })
  .map((init) => create(AppLogEntrySchema, init));
