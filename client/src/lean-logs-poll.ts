import { create, createFileRegistry, type DescMessage, type DescMethod } from "@bufbuild/protobuf";
import {
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FileDescriptorProtoSchema,
} from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, type Client, type Transport } from "@connectrpc/connect";
import type { AppLogEntry } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import { EventStoreService, type LogsPollResponse } from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import { decodeAppLogEntry } from "./logs-poll-decoder.js";

/**
 * LogsPoll without protobuf-es's reflection, for transports that speak protobuf binary: the call goes out with a
 * method whose output has the wire shape of LogsPollResponse but keeps each entry as bytes (`LeanLogsPoll`: field 1
 * repeated bytes, other fields unknown), and the entries are decoded by hand (logs-poll-decoder.ts) into the very
 * messages protobuf-es builds. A client of a transport that speaks JSON, or of a transport this package did not make
 * (whose format it cannot know), keeps the generated path.
 *
 * One difference is visible, to interceptors only: on a LogsPoll call they see this method and its `LeanLogsPoll`
 * messages (the same name, service and request; entries as bytes). The package's own interceptors look at neither.
 */
const leanFile = createFileRegistry(
  create(FileDescriptorProtoSchema, {
    name: "eskit/client/internal/lean_logs_poll.proto",
    package: "eskit.client.internal",
    syntax: "proto3",
    messageType: [
      {
        name: "LeanLogsPoll",
        field: [
          {
            name: "entries",
            jsonName: "entries",
            number: 1,
            type: FieldDescriptorProto_Type.BYTES,
            label: FieldDescriptorProto_Label.REPEATED,
          },
        ],
      },
    ],
  }),
  () => undefined,
);
/** Exported for the tests. */
export const leanLogsPollSchema = leanFile.getMessage("eskit.client.internal.LeanLogsPoll") as DescMessage;
const leanService = {
  ...EventStoreService,
  methods: [{ ...EventStoreService.method.logsPoll, output: leanLogsPollSchema } as DescMethod],
};

/** A LeanLogsPoll message, as protobuf-es decodes it. */
interface LeanLogsPoll {
  readonly entries: Uint8Array[];
  readonly $unknown?: LogsPollResponse["$unknown"];
}

/** The LogsPollResponse a LeanLogsPoll message stands for; a malformed entry fails as protobuf-es's parse does. */
export function logsPollResponseOfLean(lean: LeanLogsPoll): LogsPollResponse {
  const entries: AppLogEntry[] = new Array(lean.entries.length);
  try {
    for (let i = 0; i < entries.length; i++) entries[i] = decodeAppLogEntry(lean.entries[i]!);
  } catch (e) {
    throw new ConnectError(`parse binary: ${e instanceof Error ? e.message : String(e)}`, Code.Internal);
  }
  const response: LogsPollResponse = { $typeName: "eskit.eventstore.v1.LogsPollResponse", entries };
  if (lean.$unknown !== undefined) response.$unknown = lean.$unknown;
  return response;
}

const binaryTransports = new WeakSet<Transport>();

/** Marks a transport this package made as one that speaks protobuf binary (see {@link withLeanLogsPoll}). */
export function markBinaryTransport<T extends Transport>(transport: T, binary: boolean): T {
  if (binary) binaryTransports.add(transport);
  return transport;
}

/** `client` with its `logsPoll` decoding by hand when `transport` is known to speak protobuf binary. */
export function withLeanLogsPoll(
  client: Client<typeof EventStoreService>,
  transport: Transport,
): Client<typeof EventStoreService> {
  if (!binaryTransports.has(transport)) return client;
  const lean = createClient(leanService, transport) as unknown as {
    logsPoll(...args: Parameters<Client<typeof EventStoreService>["logsPoll"]>): AsyncIterable<LeanLogsPoll>;
  };
  return {
    ...client,
    logsPoll(request, options) {
      // Called at once, as the generated method does: the call starts before the first message is asked for.
      const messages = lean.logsPoll(request, options);
      return (async function* () {
        for await (const message of messages) yield logsPollResponseOfLean(message);
      })();
    },
  };
}

/**
 * LogsPoll with each message's entries left as their protobuf bytes (AppLogEntry's wire form, as the server sent
 * it), for a reader that turns them into something else without building messages (`eskit export` writes NDJSON
 * straight from them). Only over a transport this package made for protobuf binary: undefined for any other.
 */
export function logsPollEntryBytes(
  transport: Transport,
  request: Parameters<Client<typeof EventStoreService>["logsPoll"]>[0],
  options?: Parameters<Client<typeof EventStoreService>["logsPoll"]>[1],
): AsyncIterable<Uint8Array[]> | undefined {
  if (!binaryTransports.has(transport)) return undefined;
  const lean = createClient(leanService, transport) as unknown as {
    logsPoll(...args: Parameters<Client<typeof EventStoreService>["logsPoll"]>): AsyncIterable<LeanLogsPoll>;
  };
  const messages = lean.logsPoll(request, options);
  return (async function* () {
    for await (const message of messages) yield message.entries;
  })();
}
