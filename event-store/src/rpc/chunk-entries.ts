import type { LogEntry } from "../domain/event.js";

// Well under the 4 MiB that gRPC clients accept by default; one larger entry still goes alone.
const maxMessageBytes = 3 * 1024 * 1024;

/** Splits a batch of entries into groups whose payloads fit one stream message. */
export function* chunkEntries(entries: readonly LogEntry[]): Generator<LogEntry[]> {
  let chunk: LogEntry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = entry.event.payload.length + 256;
    if (chunk.length > 0 && bytes + size > maxMessageBytes) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(entry);
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}
