import { create, toJsonString } from "@bufbuild/protobuf";
import { AppLogEntrySchema } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import { type LogsPollResponse, LogsPollResponseSchema } from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import type { LogEntry } from "../domain/event.js";
import { chunkBySize, maxMessageBytes } from "./chunk-entries.js";
import { toLogEntryMessage } from "./convert.js";
import { encodeLogEntryDelimited, logsPollResponseOf } from "./log-entry-codec.js";

/**
 * The LogsPoll messages carrying `entries`, each at most `maxBytes` on the wire (see chunk-entries.ts), built one
 * at a time as they are asked for. Binary protocols get the entries pre-encoded (see log-entry-codec.ts) and sized
 * exactly by their bytes; JSON by the bytes of each entry's JSON (where text is UTF-8, escapes count).
 */
export function* logsPollMessages(
  entries: readonly LogEntry[],
  shared: boolean,
  binary: boolean,
  maxBytes: number = maxMessageBytes,
): Generator<LogsPollResponse> {
  if (binary) {
    // One tag byte (field 1, length-delimited) before each length-prefixed entry.
    const encoded = (function* () {
      for (const entry of entries) yield encodeLogEntryDelimited(entry, shared);
    })();
    for (const chunk of chunkBySize(encoded, (bytes) => bytes.length + 1, maxBytes)) {
      yield logsPollResponseOf(chunk);
    }
    return;
  }
  const messages = (function* () {
    for (const entry of entries) yield toLogEntryMessage(entry);
  })();
  const jsonBytes = (message: ReturnType<typeof toLogEntryMessage>): number =>
    Buffer.byteLength(toJsonString(AppLogEntrySchema, message)) + 1;
  for (const chunk of chunkBySize(messages, jsonBytes, maxBytes)) {
    yield create(LogsPollResponseSchema, { entries: chunk });
  }
}
