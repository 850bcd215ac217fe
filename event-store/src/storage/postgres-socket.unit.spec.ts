import { once } from "node:events";
import { createServer, type Server, type Socket } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { noDelaySockets } from "./postgres-socket.js";

/** Starts `server` listening on `at`: a port (0 for any free one) or a Unix socket path. */
async function listening(server: Server, at: number | string): Promise<Server> {
  server.listen(at);
  await once(server, "listening");
  return server;
}

describe("noDelaySockets", () => {
  const servers: Server[] = [];
  const reached: string[] = [];
  let dir = "";
  const serve = (name: string) =>
    createServer((socket) => socket.once("data", () => (reached.push(name), socket.end())));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "eskit-socket-"));
    servers.push(await listening(serve("a"), 0), await listening(serve("b"), 0));
    servers.push(await listening(serve("unix"), join(dir, ".s.PGSQL.5432")));
  });
  afterAll(async () => {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    await rm(dir, { recursive: true, force: true });
  });

  const port = (i: number) => (servers[i]!.address() as { port: number }).port;
  const send = async (socket: Socket) => {
    socket.write("x"); // written before the socket connects, as postgres.js writes its first message
    await once(socket, "close");
  };

  it("dials each host in turn, names it for TLS, and takes what is written before it connects", async () => {
    const dial = noDelaySockets();
    const options = { host: ["127.0.0.1", "localhost"], port: [port(0), port(1)] };
    reached.length = 0;
    const first = dial(options);
    expect(first).toMatchObject({ host: "127.0.0.1", port: port(0) });
    await send(first);
    const second = dial(options);
    expect(second).toMatchObject({ host: "localhost", port: port(1) });
    await send(second);
    await send(dial(options));
    expect(reached).toEqual(["a", "b", "a"]);
  });

  it("dials a Unix socket's path when given one", async () => {
    reached.length = 0;
    await send(noDelaySockets()({ host: ["/tmp"], port: [5432], path: join(dir, ".s.PGSQL.5432") }));
    expect(reached).toEqual(["unix"]);
  });

  it("leaves a failed dial's error to its listener, without an unhandled error", async () => {
    const closed = createServer();
    await listening(closed, 0);
    const free = (closed.address() as { port: number }).port;
    await new Promise((resolve) => closed.close(resolve));
    const socket = noDelaySockets()({ host: ["127.0.0.1"], port: [free] });
    const [error] = (await once(socket, "error")) as [NodeJS.ErrnoException];
    expect(error.code).toBe("ECONNREFUSED");
  });
});
