import { fromJsonString, toJson, toJsonString } from "@bufbuild/protobuf";
import { type AppLogEntry, AppLogEntrySchema, type Event, EventSchema } from "@eskit/client";

/**
 * Log entries and events as JSON: protobuf's canonical JSON of `AppLogEntry` and `Event` (camelCase fields, 64-bit
 * numbers as strings, the payload as the JSON text it was stored as). This is what `eskit tail --json` prints and
 * the line format of `eskit export` and `eskit import`: one entry per line, read back exactly.
 */
export function entryLine(entry: AppLogEntry): string {
  return toJsonString(AppLogEntrySchema, entry);
}

export function entryFromLine(line: string): AppLogEntry {
  return fromJsonString(AppLogEntrySchema, line);
}

export function eventJson(event: Event): unknown {
  return toJson(EventSchema, event);
}
