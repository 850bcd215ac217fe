import { create } from "@bufbuild/protobuf";
import { type LogsPollResponse, LogsPollResponseSchema } from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import { presetBinary, presetJson } from "@eskit/server-kit/http/rpc-lane.js";
import type { LogEntry } from "../domain/event.js";
import { chunkBySize, maxMessageBytes } from "./chunk-entries.js";
import { toLogEntryMessage } from "./convert.js";
import { encodeLogEntryDelimited, logsPollResponseOf } from "./log-entry-codec.js";
import { logEntryJson } from "./log-entry-json.js";

/**
 * The LogsPoll messages carrying `entries`, each at most `maxBytes` on the wire (see chunk-entries.ts), built one
 * at a time as they are asked for. Binary protocols get the entries pre-encoded (see log-entry-codec.ts) and sized
 * exactly by their bytes; JSON gets each entry's text written by hand (log-entry-json.ts), sized by its UTF-8 bytes,
 * and preset on the message (see `presetJson`). `lane`: the call is answered by the RPC lane, which sends what is
 * preset (the JSON text, or the protobuf bytes written at once), so the message need not carry the entries.
 */
export function* logsPollMessages(
  entries: readonly LogEntry[],
  shared: boolean,
  binary: boolean,
  maxBytes: number = maxMessageBytes,
  lane = false,
): Generator<LogsPollResponse> {
  if (binary) {
    // One tag byte (field 1, length-delimited) before each length-prefixed entry.
    const encoded = (function* () {
      for (const entry of entries) yield encodeLogEntryDelimited(entry, shared);
    })();
    for (const chunk of chunkBySize(encoded, (bytes) => bytes.length + 1, maxBytes)) {
      // In the lane the message's bytes are written here at once, without protobuf-es's growing writer.
      yield lane ? presetBinary(create(LogsPollResponseSchema), entriesField(chunk)) : logsPollResponseOf(chunk);
    }
    return;
  }
  const texts = (function* () {
    for (const entry of entries) yield { entry, json: logEntryJson(entry, shared) };
  })();
  // A comma between entries, and the wrapping object's bytes.
  for (const chunk of chunkBySize(texts, (t) => Buffer.byteLength(t.json) + 1, maxBytes)) {
    const message = create(
      LogsPollResponseSchema,
      lane ? {} : { entries: chunk.map((t) => toLogEntryMessage(t.entry)) },
    );
    yield presetJson(message, `{"entries":[${chunk.map((t) => t.json).join(",")}]}`);
  }
}

/** `entries` (field 1) of already length-prefixed entries: a tag byte before each. */
function entriesField(encoded: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const bytes of encoded) size += 1 + bytes.length;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const bytes of encoded) {
    out[at++] = 0x0a;
    out.set(bytes, at);
    at += bytes.length;
  }
  return out;
}
