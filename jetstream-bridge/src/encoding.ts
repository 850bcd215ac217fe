import { fromBinary, fromJsonString, toBinary, toJsonString } from "@bufbuild/protobuf";
import { AppLogEntrySchema, type AppLogEntry } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";

/** How an entry is written into a JetStream message. */
export type Encoding = "protobuf" | "json";

/** Headers every bridged message carries, besides `Nats-Msg-Id` (= the log id, for JetStream's de-duplication). */
export const headerNames = {
  logId: "Eskit-Log-Id",
  eventType: "Eskit-Event-Type",
  contentType: "Content-Type",
} as const;

const contentTypes: Record<Encoding, string> = {
  protobuf: "application/protobuf",
  json: "application/json",
};

/** The message body and its content type: the same AppLogEntry as LogsPoll sends, in binary or as proto3 JSON. */
export function encodeEntry(entry: AppLogEntry, encoding: Encoding): { data: Uint8Array; contentType: string } {
  const data =
    encoding === "protobuf"
      ? toBinary(AppLogEntrySchema, entry)
      : new TextEncoder().encode(toJsonString(AppLogEntrySchema, entry));
  return { data, contentType: contentTypes[encoding] };
}

/** Reads a message body back, by its `Content-Type` (protobuf when absent). */
export function decodeEntry(data: Uint8Array, contentType: string | undefined): AppLogEntry {
  if (contentType === contentTypes.json) {
    return fromJsonString(AppLogEntrySchema, new TextDecoder().decode(data));
  }
  return fromBinary(AppLogEntrySchema, data);
}
