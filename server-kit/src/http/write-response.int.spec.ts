import * as http from "node:http";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import * as net from "node:net";
import type { UniversalServerResponse } from "@connectrpc/connect/protocol";
import { afterEach, describe, expect, it } from "vitest";
import type { NodeResponse } from "./node-types.js";
import { writeUniversalResponse } from "./write-response.js";

// A stream answer written to a client that never reads, over real sockets: whatever the client does, the body's
// producer (the RPC handler) must end, and its `finally` run, so its memory and its stream slot are given back.

const MiB = 1024 * 1024;

/** An endless body of 1 MiB chunks that records how it ended. */
function endlessBody(): { body: AsyncIterable<Uint8Array>; ended: Promise<string>; produced: () => number } {
  let produced = 0;
  let resolveEnded: (how: string) => void = () => {};
  const ended = new Promise<string>((resolve) => (resolveEnded = resolve));
  async function* body(): AsyncGenerator<Uint8Array> {
    try {
      for (;;) {
        produced++;
        yield new Uint8Array(MiB);
      }
    } catch (error) {
      resolveEnded(`threw ${String(error)}`);
      throw error;
    } finally {
      resolveEnded("finished");
    }
  }
  return { body: body(), ended, produced: () => produced };
}

const response = (body: AsyncIterable<Uint8Array>): UniversalServerResponse => ({
  status: 200,
  header: new Headers({ "content-type": "application/octet-stream" }),
  body,
});

const closers: Array<() => void> = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

async function listen(server: http.Server | http2.Http2Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(() => server.close());
  return (server.address() as AddressInfo).port;
}

function within<T>(promise: Promise<T>, ms: number): Promise<T | "still running"> {
  return Promise.race([promise, new Promise<"still running">((r) => setTimeout(() => r("still running"), ms))]);
}

describe("writeUniversalResponse", () => {
  it("ends the producer when an HTTP/2 client that stopped reading goes away with a write pending", async () => {
    const { body, ended, produced } = endlessBody();
    const server = http2.createServer((_req, res) => {
      void writeUniversalResponse(response(body), res as NodeResponse, { stallTimeoutMs: 60_000 }).catch(() => {});
    });
    const port = await listen(server);
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on("error", () => {});
    const stream = session.request({ ":path": "/" });
    stream.on("error", () => {});
    stream.pause();
    await new Promise((resolve) => stream.once("response", resolve));
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Flow control holds the first chunk: the producer waits for the transport, it does not run ahead.
    expect(produced()).toBe(1);
    session.destroy();
    expect(await within(ended, 2000)).toMatch(/threw|finished/);
  });

  it("ends the producer when an HTTP/1.1 client that stopped reading closes its socket", async () => {
    const { body, ended, produced } = endlessBody();
    const server = http.createServer((_req, res) => {
      void writeUniversalResponse(response(body), res, { stallTimeoutMs: 60_000 }).catch(() => {});
    });
    const port = await listen(server);
    const socket = net.connect(port, "127.0.0.1");
    socket.on("error", () => {});
    socket.pause();
    socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await new Promise((resolve) => setTimeout(resolve, 500));
    // The kernel's buffers take a few MiB; then the producer waits.
    const before = produced();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(produced()).toBe(before);
    socket.destroy();
    expect(await within(ended, 2000)).toMatch(/threw|finished/);
  });

  it("cuts a stream whose client took nothing for stallTimeoutMs (HTTP/2: the stream is reset, the session lives)", async () => {
    const { body, ended } = endlessBody();
    let stalled = 0;
    const server = http2.createServer((_req, res) => {
      void writeUniversalResponse(response(body), res as NodeResponse, {
        stallTimeoutMs: 300,
        onStalled: () => stalled++,
      }).catch(() => {});
    });
    const port = await listen(server);
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on("error", () => {});
    closers.push(() => session.destroy());
    const stream = session.request({ ":path": "/" });
    stream.on("error", () => {});
    stream.pause();
    const closed = new Promise<number>((resolve) => stream.once("close", () => resolve(stream.rstCode ?? -1)));
    expect(await within(ended, 3000)).toMatch(/threw|finished/);
    expect(stalled).toBe(1);
    // ENHANCE_YOUR_CALM, which gRPC and Connect clients read as resource_exhausted.
    expect(await within(closed, 3000)).toBe(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
    expect(session.destroyed).toBe(false);
  });
});
