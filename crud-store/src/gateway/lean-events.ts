import { create, createFileRegistry, type DescMessage, type DescMethod } from "@bufbuild/protobuf";
import {
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FileDescriptorProtoSchema,
} from "@bufbuild/protobuf/wkt";
import { EventStoreService } from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import type { HistorySlice, StoredEvent, StoredSnapshot } from "../store/event-store-port.js";

/**
 * Reading events is what a List page spends most of its time on: 1000 documents are 1000 Event messages, which
 * protobuf-es decodes by reflection into messages the gateway then converts again. The gateway always speaks binary,
 * so it reads GetEvents and BatchGetEvents through a message of the same wire shape whose fields are plain bytes
 * (`LeanEvents`: field 1 repeated bytes, field 2 bytes), and decodes those bytes here by hand, straight into the
 * core's types. Field numbers are those of proto/eskit/eventstore/v1/event.proto and event_store.proto; a property
 * test holds this decoder to protobuf-es on every shape of event.
 */
const leanFile = createFileRegistry(
  create(FileDescriptorProtoSchema, {
    name: "eskit/crudstore/internal/lean_events.proto",
    package: "eskit.crudstore.internal",
    syntax: "proto3",
    messageType: [
      {
        name: "LeanEvents",
        field: [
          {
            name: "repeated_bytes",
            jsonName: "repeatedBytes",
            number: 1,
            type: FieldDescriptorProto_Type.BYTES,
            label: FieldDescriptorProto_Label.REPEATED,
          },
          {
            // proto3 `optional`, so that an empty snapshot message (present, zero bytes) is told from none.
            name: "single_bytes",
            jsonName: "singleBytes",
            number: 2,
            type: FieldDescriptorProto_Type.BYTES,
            label: FieldDescriptorProto_Label.OPTIONAL,
            proto3Optional: true,
            oneofIndex: 0,
          },
        ],
        oneofDecl: [{ name: "_single_bytes" }],
      },
    ],
  }),
  () => undefined,
);
const leanEvents = leanFile.getMessage("eskit.crudstore.internal.LeanEvents") as DescMessage;

/** GetEvents and BatchGetEvents answering `LeanEvents`: the same calls on the wire. */
export const leanMethods = {
  getEvents: { ...EventStoreService.method.getEvents, output: leanEvents } as DescMethod,
  batchGetEvents: { ...EventStoreService.method.batchGetEvents, output: leanEvents } as DescMethod,
};

/** A LeanEvents message, as protobuf-es decodes it. */
export interface LeanEvents {
  readonly repeatedBytes: Uint8Array[];
  /** Undefined when the field was absent. */
  readonly singleBytes?: Uint8Array | undefined;
}

/** A GetEventsResponse read as LeanEvents: field 1 its events, field 2 its snapshot. */
export function sliceOfGetEvents(response: LeanEvents): HistorySlice {
  return {
    events: response.repeatedBytes.map(decodeEvent),
    snapshot: response.singleBytes === undefined ? undefined : decodeSnapshot(response.singleBytes),
  };
}

/** A BatchGetEventsResponse read as LeanEvents: field 1 its results, each a GetEventsResponse. */
export function slicesOfBatchGetEvents(response: LeanEvents): HistorySlice[] {
  return response.repeatedBytes.map(decodeEventsResult);
}

/** A GetEventsResponse's bytes (one result of BatchGetEvents). */
export function decodeEventsResult(bytes: Uint8Array): HistorySlice {
  const r = new Reader(bytes);
  const events: StoredEvent[] = [];
  let snapshot: StoredSnapshot | undefined;
  while (r.more()) {
    const tag = r.varint32();
    if (tag === 0x0a) events.push(decodeEvent(r.bytes()));
    else if (tag === 0x12) snapshot = decodeSnapshot(r.bytes());
    else r.skip(tag);
  }
  return { events, snapshot };
}

/** An Event's bytes, as the core keeps it. */
export function decodeEvent(bytes: Uint8Array): StoredEvent {
  const r = new Reader(bytes);
  let originatorId = "";
  let version = 0n;
  let eventType = "";
  let payload = "";
  let occurredOn: { seconds: bigint; nanos: number } | undefined;
  const metadata: Record<string, string> = {};
  while (r.more()) {
    const tag = r.varint32();
    switch (tag) {
      case 0x0a: {
        const o = new Reader(r.bytes());
        while (o.more()) {
          const t = o.varint32();
          if (t === 0x0a) originatorId = o.string();
          else if (t === 0x10) version = o.uint64();
          else o.skip(t);
        }
        break;
      }
      case 0x12:
        eventType = r.string();
        break;
      case 0x1a:
        payload = r.string();
        break;
      case 0x22: {
        const t = new Reader(r.bytes());
        let seconds = 0n;
        let nanos = 0;
        while (t.more()) {
          const f = t.varint32();
          if (f === 0x08) seconds = BigInt.asIntN(64, t.uint64());
          else if (f === 0x10) nanos = Number(BigInt.asIntN(32, t.uint64()));
          else t.skip(f);
        }
        occurredOn = { seconds, nanos };
        break;
      }
      case 0x32: {
        const m = new Reader(r.bytes());
        let key = "";
        let value = "";
        while (m.more()) {
          const f = m.varint32();
          if (f === 0x0a) key = m.string();
          else if (f === 0x12) value = m.string();
          else m.skip(f);
        }
        // As protobuf-es does: the last entry of a key wins. (Append refuses "__proto__" as a key.)
        Object.defineProperty(metadata, key, { value, enumerable: true, writable: true, configurable: true });
        break;
      }
      default:
        r.skip(tag);
    }
  }
  return { originatorId, version, eventType, payload, metadata, occurredOn };
}

function decodeSnapshot(bytes: Uint8Array): StoredSnapshot {
  const r = new Reader(bytes);
  let version = 0n;
  let payload = "";
  while (r.more()) {
    const tag = r.varint32();
    if (tag === 0x08) version = r.uint64();
    else if (tag === 0x12) payload = r.string();
    else r.skip(tag);
  }
  return { version, payload };
}

const utf8 = new TextDecoder();

/** Reads protobuf wire format; throws on a truncated or malformed message. */
class Reader {
  private at = 0;

  constructor(private readonly buf: Uint8Array) {}

  more(): boolean {
    return this.at < this.buf.length;
  }

  /** A varint that fits 32 bits (tags, lengths). */
  varint32(): number {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const byte = this.byte();
      result += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return result;
    }
    throw new Error("malformed varint");
  }

  uint64(): bigint {
    let low = 0;
    let shift = 0;
    // Most values fit the 49 bits a double holds exactly (7 bytes of varint): decode those without bigints.
    for (; shift < 49; shift += 7) {
      const byte = this.byte();
      low += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return BigInt(low);
    }
    let result = BigInt(low);
    for (let big = BigInt(shift); big < 70n; big += 7n) {
      const byte = this.byte();
      result |= BigInt(byte & 0x7f) << big;
      if (byte < 0x80) return BigInt.asUintN(64, result);
    }
    throw new Error("malformed varint");
  }

  bytes(): Uint8Array {
    const length = this.varint32();
    const end = this.at + length;
    if (end > this.buf.length) throw new Error("truncated message");
    const out = this.buf.subarray(this.at, end);
    this.at = end;
    return out;
  }

  string(): string {
    return utf8.decode(this.bytes());
  }

  skip(tag: number): void {
    switch (tag & 7) {
      case 0:
        this.uint64();
        return;
      case 1:
        this.advance(8);
        return;
      case 2:
        this.bytes();
        return;
      case 5:
        this.advance(4);
        return;
      default:
        throw new Error(`wire type ${tag & 7} is not supported`);
    }
  }

  private advance(n: number): void {
    if (this.at + n > this.buf.length) throw new Error("truncated message");
    this.at += n;
  }

  private byte(): number {
    if (this.at >= this.buf.length) throw new Error("truncated message");
    return this.buf[this.at++]!;
  }
}
