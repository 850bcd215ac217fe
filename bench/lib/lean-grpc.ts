import * as http2 from "node:http2";
import { create, toBinary } from "@bufbuild/protobuf";
import { AppendRequestSchema, LogsPollRequestSchema } from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import { toEvent, type NewEvent } from "@eskit/client/new-event.js";

/**
 * A load generator's gRPC client for Append: one HTTP/2 connection, each call a bare gRPC request (5-byte frame
 * header + protobuf) with the status read from the trailers. It does what tools like ghz or h2load do: spend as
 * little CPU as possible, so that on a small machine the client does not starve the server it measures. (The
 * connect-es client of `@eskit/client` costs about as much CPU per call as the server does; the benchmark reports
 * it too.)
 */
export class LeanGrpcAppender {
  private readonly session: http2.ClientHttp2Session;

  constructor(baseUrl: string) {
    this.session = http2.connect(baseUrl);
    this.session.on("error", () => {});
  }

  /** Appends the events; resolves with how many were written, rejects with the gRPC status message otherwise. */
  async append(events: readonly NewEvent[]): Promise<number> {
    await this.call(events);
    return events.length;
  }

  /** Appends the events; resolves with their log ids (the AppendResponse walked, not decoded into a message). */
  async appendIds(events: readonly NewEvent[]): Promise<bigint[]> {
    const body = await this.call(events);
    const ids: bigint[] = [];
    // AppendResponse: field 1 (log_ids), packed varints.
    if (body.length > 5 && body[5] === 0x0a) {
      const [length, from] = readVarint(body, 6);
      for (let at = from; at < from + Number(length);) {
        const [id, next] = readVarint(body, at);
        ids.push(id);
        at = next;
      }
    }
    return ids;
  }

  private call(events: readonly NewEvent[]): Promise<Buffer> {
    const body = toBinary(AppendRequestSchema, create(AppendRequestSchema, { events: events.map(toEvent) }));
    const frame = Buffer.alloc(5 + body.length);
    frame.writeUInt32BE(body.length, 1);
    frame.set(body, 5);
    return new Promise((resolve, reject) => {
      const request = this.session.request({
        ":method": "POST",
        ":path": "/eskit.eventstore.v1.EventStoreService/Append",
        "content-type": "application/grpc+proto",
        te: "trailers",
      });
      let status: string | undefined;
      const chunks: Buffer[] = [];
      request.on("trailers", (trailers) => {
        status = String(trailers["grpc-status"]);
        if (status !== "0")
          reject(new Error(`Append failed: grpc-status ${status} ${String(trailers["grpc-message"])}`));
      });
      request.on("response", (headers) => {
        // A trailers-only response carries the status in the headers.
        if (headers["grpc-status"] !== undefined && headers["grpc-status"] !== "0") {
          reject(
            new Error(
              `Append failed: grpc-status ${String(headers["grpc-status"])} ${String(headers["grpc-message"])}`,
            ),
          );
        }
      });
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () =>
        status === "0" ? resolve(Buffer.concat(chunks)) : reject(new Error("Append ended without status")),
      );
      request.on("error", reject);
      request.end(frame);
    });
  }

  close(): void {
    this.session.close();
  }
}

/**
 * A lean LogsPoll stream on a new HTTP/2 connection: walks the gRPC frames and the entries' wire format without
 * building messages, checks that entry ids strictly increase, and calls `onEntry` with each id as it arrives. Ends
 * (resolving) when `signal` aborts; rejects when the stream fails or ends by itself.
 */
export function leanLogsPollFollow(
  baseUrl: string,
  fromId: bigint,
  onEntry: (id: bigint) => boolean | void,
  signal?: AbortSignal,
): Promise<void> {
  const session = http2.connect(baseUrl);
  session.on("error", () => {});
  const request = session.request({
    ":method": "POST",
    ":path": "/eskit.eventstore.v1.EventStoreService/LogsPoll",
    "content-type": "application/grpc+proto",
    te: "trailers",
  });
  const body = toBinary(LogsPollRequestSchema, create(LogsPollRequestSchema, { fromId }));
  const frame = Buffer.alloc(5 + body.length);
  frame.writeUInt32BE(body.length, 1);
  frame.set(body, 5);
  request.end(frame);
  return new Promise((resolve, reject) => {
    let pending: Buffer = Buffer.alloc(0);
    let lastId = 0n;
    let done = false;
    const finish = (error?: Error) => {
      if (done) return;
      done = true;
      signal?.removeEventListener("abort", onAbort);
      request.close();
      session.close();
      if (error) reject(error);
      else resolve();
    };
    const onAbort = () => finish();
    if (signal?.aborted) return finish();
    signal?.addEventListener("abort", onAbort, { once: true });
    request.on("data", (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (pending.length >= 5 && pending.length >= 5 + pending.readUInt32BE(1)) {
        const size = pending.readUInt32BE(1);
        const message = pending.subarray(5, 5 + size);
        pending = pending.subarray(5 + size);
        for (let at = 0; at < message.length;) {
          // LogsPollResponse: field 1 (entries), length-delimited.
          if (message[at++] !== 0x0a) return finish(new Error("unexpected field in LogsPollResponse"));
          const [length, afterLength] = readVarint(message, at);
          const entry = message.subarray(afterLength, afterLength + Number(length));
          at = afterLength + Number(length);
          const id = entry[0] === 0x08 ? readVarint(entry, 1)[0] : 0n;
          if (id <= lastId) return finish(new Error(`entry id ${id} after ${lastId}`));
          lastId = id;
          if (onEntry(id) === true) return finish();
        }
      }
    });
    request.on("error", (error) => finish(error));
    request.on("end", () => finish(done ? undefined : new Error(`LogsPoll ended after entry ${lastId}`)));
  });
}

/** Reads the log from id 0 with {@link leanLogsPollFollow}; resolves with how many entries arrived once `n` did. */
export async function leanLogsPollCount(baseUrl: string, n: number): Promise<number> {
  let received = 0;
  await leanLogsPollFollow(baseUrl, 0n, () => ++received >= n);
  return received;
}

function readVarint(buffer: Uint8Array, at: number): [bigint, number] {
  let value = 0n;
  let shift = 0n;
  for (;;) {
    const byte = buffer[at++]!;
    value |= BigInt(byte & 0x7f) << shift;
    if (byte < 0x80) return [value, at];
    shift += 7n;
  }
}
