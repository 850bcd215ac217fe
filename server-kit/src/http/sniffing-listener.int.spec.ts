import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { classify, createSniffingListener } from "./sniffing-listener.js";

const PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

describe("classify", () => {
  it("waits while the bytes are a strict prefix of the HTTP/2 preface", () => {
    expect(classify(Buffer.from(""))).toBeUndefined();
    expect(classify(Buffer.from("P"))).toBeUndefined();
    expect(classify(Buffer.from(PREFACE.slice(0, 23)))).toBeUndefined();
  });

  it("decides h2 on the full preface and h1 on the first differing byte", () => {
    expect(classify(Buffer.from(PREFACE))).toBe("h2");
    expect(classify(Buffer.from(PREFACE + "\x00\x00\x12\x04"))).toBe("h2");
    expect(classify(Buffer.from("PO"))).toBe("h1");
    expect(classify(Buffer.from("GET / HTTP/1.1\r\n"))).toBe("h1");
    expect(classify(Buffer.from("PRI * HTTP/1.1\r\n"))).toBe("h1");
  });
});

describe("createSniffingListener", () => {
  let listener: net.Server;
  let port: number;

  beforeEach(async () => {
    const h1 = http.createServer((req, res) => res.end(`h1 ${req.url}`));
    const h2 = http2.createServer((req, res) => res.end(`h2 ${req.url}`));
    listener = createSniffingListener({
      onHttp1: (s) => h1.emit("connection", s),
      onHttp2: (s) => h2.emit("connection", s),
      sniffTimeoutMs: 200,
    });
    await new Promise<void>((r) => listener.listen(0, "127.0.0.1", r));
    port = (listener.address() as net.AddressInfo).port;
  });

  afterEach(async () => {
    await new Promise((r) => listener.close(r));
  });

  it("hands an HTTP/2 client that sends its preface in pieces to the HTTP/2 server", async () => {
    const session = http2.connect(`http://127.0.0.1:${port}`, {
      createConnection: () => {
        const socket = net.connect(port, "127.0.0.1");
        socket.setNoDelay(true);
        const write = socket.write.bind(socket) as (chunk: Buffer) => boolean;
        let first = true;
        // Split the first write (the preface) into three packets.
        (socket as unknown as { write: (chunk: Buffer) => boolean }).write = (chunk) => {
          if (!first || !Buffer.isBuffer(chunk)) return write(chunk);
          first = false;
          write(chunk.subarray(0, 1));
          setTimeout(() => write(chunk.subarray(1, 10)), 20);
          setTimeout(() => write(chunk.subarray(10)), 40);
          return true;
        };
        return socket;
      },
    });
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const req = session.request({ ":path": "/split" });
        let text = "";
        req.setEncoding("utf8");
        req.on("data", (d: string) => (text += d));
        req.on("end", () => resolve(text));
        req.on("error", reject);
      });
      expect(body).toBe("h2 /split");
    } finally {
      session.close();
    }
  });

  it("serves two pipelined HTTP/1.1 requests that arrived in one packet", async () => {
    const socket = net.connect(port, "127.0.0.1");
    let reply = "";
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => (reply += d));
    const closed = new Promise((r) => socket.on("close", r));
    socket.write("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    await closed;
    expect(reply.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(2);
    expect(reply.indexOf("h1 /a")).toBeGreaterThan(0);
    expect(reply.indexOf("h1 /b")).toBeGreaterThan(reply.indexOf("h1 /a"));
  });

  it("drops a connection that stays silent or stops mid-preface", async () => {
    for (const sent of ["", "PRI * HT"]) {
      const socket = net.connect(port, "127.0.0.1");
      const started = Date.now();
      if (sent) socket.write(sent);
      socket.resume();
      await new Promise((r) => socket.on("close", r));
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(150);
      expect(elapsed).toBeLessThan(1000);
    }
  });
});
