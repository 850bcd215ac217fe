import { create } from "@bufbuild/protobuf";
import { type LogsPollResponse, LogsPollResponseSchema } from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import { presetBinary, presetJson } from "@eskit/server-kit/http/rpc-lane.js";
import type { LogEntry } from "../domain/event.js";
import { chunkBySize, maxMessageBytes } from "./chunk-entries.js";
import { toLogEntryMessage } from "./convert.js";
import { encodeLogEntryDelimited, logsPollResponseOf } from "./log-entry-codec.js";
import { logEntryJsonBytes } from "./log-entry-json.js";

/**
 * The LogsPoll messages carrying `entries`, each at most `maxBytes` on the wire (see chunk-entries.ts), built one
 * at a time as they are asked for. Binary protocols get the entries pre-encoded (see log-entry-codec.ts) and sized
 * exactly by their bytes; JSON gets each entry's text written by hand (log-entry-json.ts) as UTF-8, sized by its
 * bytes, and the message's text preset on it (see `presetJson`). `lane`: the call is answered by the RPC lane, which
 * sends what is preset (the JSON text, or the protobuf bytes written at once), so the message need not carry the
 * entries.
 *
 * `shared` entries in the lane: every live stream at the same place of the tail gets the same batch, and so the same
 * messages, built once (see {@link sharedMessages}); the lane then frames each message once too.
 */
export function logsPollMessages(
  entries: readonly LogEntry[],
  shared: boolean,
  binary: boolean,
  maxBytes: number = maxMessageBytes,
  lane = false,
): Iterable<LogsPollResponse> {
  if (shared && lane) return sharedMessages(entries, binary, maxBytes);
  return buildMessages(entries, shared, binary, maxBytes, lane);
}

function* buildMessages(
  entries: readonly LogEntry[],
  shared: boolean,
  binary: boolean,
  maxBytes: number,
  lane: boolean,
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
    for (const entry of entries) yield { entry, json: logEntryJsonBytes(entry, shared) };
  })();
  // A comma between entries, and the wrapping object's bytes.
  for (const chunk of chunkBySize(texts, (t) => t.json.length + 1, maxBytes)) {
    const message = create(
      LogsPollResponseSchema,
      lane ? {} : { entries: chunk.map((t) => toLogEntryMessage(t.entry)) },
    );
    yield presetJson(message, entriesJson(chunk.map((t) => t.json)));
  }
}

const entriesOpen = Buffer.from('{"entries":[');
const entriesClose = Buffer.from("]}");

/** `{"entries":[…]}` of entries' JSON texts (as UTF-8), in one buffer. */
function entriesJson(texts: readonly Uint8Array[]): Uint8Array {
  let size = entriesOpen.length + entriesClose.length + Math.max(0, texts.length - 1);
  for (const text of texts) size += text.length;
  const out = Buffer.allocUnsafe(size);
  out.set(entriesOpen, 0);
  let at = entriesOpen.length;
  texts.forEach((text, i) => {
    if (i > 0) out[at++] = 0x2c;
    out.set(text, at);
    at += text.length;
  });
  out.set(entriesClose, at);
  return out;
}

interface Built {
  readonly entries: readonly LogEntry[];
  readonly binary: boolean;
  readonly maxBytes: number;
  readonly messages: readonly LogsPollResponse[];
}

/** Batches built lately, by their first entry (an object of the tail's memory, so they go when it drops the entry). */
const built = new WeakMap<LogEntry, Built[]>();
/** Batches kept per first entry: one per protocol and filter that streams at that place use. */
const builtPerEntry = 4;

/**
 * The lane's messages for a batch of the tail's entries, built once for every stream that gets the same batch: the
 * same entry objects in the same order (streams with the same filter, woken by the same commit), the same protocol
 * and bound. With 100 streams open, each commit's entries were otherwise encoded, chunked and copied 100 times.
 * Only preset messages (whose bytes the lane sends as they are) are shared: nothing mutates them.
 */
function sharedMessages(entries: readonly LogEntry[], binary: boolean, maxBytes: number): readonly LogsPollResponse[] {
  const first = entries[0];
  if (first === undefined) return [];
  let list = built.get(first);
  const found = list?.find((b) => b.binary === binary && b.maxBytes === maxBytes && sameEntries(b.entries, entries));
  if (found !== undefined) return found.messages;
  const messages = [...buildMessages(entries, true, binary, maxBytes, true)];
  if (list === undefined) built.set(first, (list = []));
  if (list.length >= builtPerEntry) list.shift();
  list.push({ entries, binary, maxBytes, messages });
  return messages;
}

function sameEntries(a: readonly LogEntry[], b: readonly LogEntry[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
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
