/**
 * A TCP proxy that can slow the network down or cut it, for tests of what the Crud Store does when its Event Store is
 * slow (deadlines) or unreachable (`unavailable`). The event store's own `tcp-proxy.ts` can only cut; this one also
 * holds every chunk for `latencyMs` before passing it on, in order, in both directions.
 */
import * as net from "node:net";

/** A running proxy. */
export interface LatencyProxy {
  /** The local port clients connect to; it stays the same across cut and restore. */
  readonly port: number;
  /** The delay added to every chunk from now on, in ms (0 = none); chunks already held keep their delay. */
  latencyMs: number;
  /** Resolves once every chunk held so far has been passed on. */
  drained(): Promise<void>;
  /** Stops accepting and destroys every open connection; resolves once the port is closed. */
  cut(): Promise<void>;
  /** Listens again on the same port. */
  restore(): Promise<void>;
  /** Cuts and stays down. */
  close(): Promise<void>;
}

/** Starts a proxy on 127.0.0.1 (a free port) forwarding to `target`, without latency. */
export async function startLatencyProxy(target: { host: string; port: number }): Promise<LatencyProxy> {
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  const proxy = { latencyMs: 0 };
  let held = 0;
  let onDrained: Array<() => void> = [];

  // Each chunk is due `latencyMs` after it arrived; chaining the writes keeps the byte order.
  const forward = (from: net.Socket, to: net.Socket): void => {
    let chain = Promise.resolve();
    from.on("data", (chunk: Buffer) => {
      const due = Date.now() + proxy.latencyMs;
      held++;
      chain = chain.then(async () => {
        const wait = due - Date.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        if (!to.destroyed) to.write(chunk);
        if (--held === 0) {
          for (const resolve of onDrained) resolve();
          onDrained = [];
        }
      });
    });
  };
  const onConnection = (client: net.Socket): void => {
    const upstream = net.connect(target.port, target.host);
    for (const [socket, other] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      sockets.add(socket);
      socket.once("close", () => sockets.delete(socket));
      forward(socket, other);
      socket.on("error", () => other.destroy());
      socket.once("close", () => other.destroy());
    }
  };
  const listen = async (onPort: number): Promise<number> => {
    const next = net.createServer(onConnection);
    await new Promise<void>((resolve, reject) => {
      next.once("error", reject);
      next.listen(onPort, "127.0.0.1", () => {
        next.off("error", reject);
        resolve();
      });
    });
    server = next;
    return (next.address() as net.AddressInfo).port;
  };
  const cut = async (): Promise<void> => {
    const current = server;
    server = undefined;
    const closed =
      current === undefined ? Promise.resolve() : new Promise<void>((resolve) => current.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };

  const port = await listen(0);
  return Object.assign(proxy, {
    port,
    drained: () => (held === 0 ? Promise.resolve() : new Promise<void>((resolve) => onDrained.push(resolve))),
    cut,
    async restore() {
      if (server === undefined) await listen(port);
    },
    close: cut,
  });
}
