import { toJsonString } from "@bufbuild/protobuf";
import { AppLogEntrySchema, EventSchema } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { testSize } from "@eskit/test-kit/test-sizes.js";
import {
  jsonableLogEntryArbitrary,
  zeroEntry,
  logEntryArbitrary as entry,
  uint64Arbitrary as uint64,
} from "../../test/support/log-entry-arbitrary.js";
import { toEventMessage, toLogEntryMessage } from "./convert.js";
import { eventJson, logEntryJson, logsResponseJson } from "./log-entry-json.js";
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
        expect(reference(() => logEntryJson(e, shared))).toBe(expected);
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
