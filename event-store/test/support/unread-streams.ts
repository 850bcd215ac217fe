/**
 * A hostile LogsPoll client for memory tests: it opens catch-up streams and never reads a byte of their answers, as
 * a stuck or malicious subscriber would. Over HTTP/1.1 it speaks Connect (JSON) on raw sockets that are never read;
 * over HTTP/2 it speaks gRPC through node:http2 with every stream paused, so no WINDOW_UPDATE is ever sent and flow
 * control stops the server after the first 64 KiB of each connection.
 */
import * as http2 from "node:http2";
import * as net from "node:net";
import { create, toBinary } from "@bufbuild/protobuf";
import { LogsPollRequestSchema } from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";

const path = "/eskit.eventstore.v1.EventStoreService/LogsPoll";

/** Streams held open and unread; `close()` drops every connection at once, as a client that vanishes. */
export interface UnreadStreams {
  readonly count: number;
  close(): Promise<void>;
}

/** One Connect/gRPC envelope: flags 0, big-endian length, then the message. */
function envelope(message: Uint8Array): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}

/** `n` Connect-JSON LogsPoll streams from `fromId`, one HTTP/1.1 connection each, never read. */
export async function openUnreadHttp1Streams(baseUrl: string, n: number, fromId = 1n): Promise<UnreadStreams> {
  const { hostname, port } = new URL(baseUrl);
  const body = envelope(Buffer.from(JSON.stringify({ fromId: fromId.toString() })));
  const head =
    `POST ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/connect+json\r\n` +
    `Connect-Protocol-Version: 1\r\nContent-Length: ${body.length}\r\n\r\n`;
  const sockets: net.Socket[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(sockets.map((s) => destroyed(s)));
  };
  try {
    for (let i = 0; i < n; i++) {
      const socket = net.connect(Number(port), hostname);
      sockets.push(socket);
      socket.on("error", () => {}); // the server may cut a stalled stream: that is its right
      // Paused from the start and never resumed: the kernel buffers fill, then the server's writes wait.
      socket.pause();
      await new Promise<void>((resolve, reject) => {
        socket.once("connect", resolve);
        socket.once("error", reject);
      });
      socket.write(head);
      socket.write(body);
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { count: n, close };
}

/** `n` gRPC LogsPoll streams from `fromId` over HTTP/2, `perSession` per connection, never read. */
export async function openUnreadHttp2Streams(
  baseUrl: string,
  n: number,
  fromId = 1n,
  perSession = 100,
): Promise<UnreadStreams> {
  const body = envelope(toBinary(LogsPollRequestSchema, create(LogsPollRequestSchema, { fromId })));
  const sessions: http2.ClientHttp2Session[] = [];
  for (let opened = 0; opened < n; opened += perSession) {
    const session = http2.connect(baseUrl);
    session.on("error", () => {});
    await new Promise<void>((resolve, reject) => {
      session.once("connect", () => resolve());
      session.once("error", reject);
    });
    sessions.push(session);
    for (let i = opened; i < Math.min(n, opened + perSession); i++) {
      const stream = session.request({
        ":method": "POST",
        ":path": path,
        "content-type": "application/grpc",
        te: "trailers",
      });
      stream.on("error", () => {});
      stream.pause();
      stream.end(body);
    }
  }
  return {
    count: n,
    async close() {
      await Promise.all(
        sessions.map(
          (session) =>
            new Promise<void>((resolve) => {
              if (session.destroyed) return resolve();
              session.once("close", () => resolve());
              session.destroy();
            }),
        ),
      );
    },
  };
}

function destroyed(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve();
    socket.once("close", () => resolve());
    socket.destroy();
  });
}

/** The resident set size of process `pid` in bytes (VmRSS of /proc/PID/status). */
export async function rssBytes(pid: number): Promise<number> {
  const { readFile } = await import("node:fs/promises");
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (match === null) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}
