/**
 * A TCP proxy for outage tests: put it between a service and what it depends on (PostgreSQL, the Event Store), then
 * `cut()` it to make that vanish (every connection reset, new ones refused) and `restore()` it to bring it back on the
 * same port, without touching servers other tests share. `latencyMs` slows it down instead (deadline tests);
 * `blackHole()` makes it silent: connections stay open (new ones are accepted) but nothing passes either way, as when a
 * network drops packets without resetting anything.
 */
import * as net from "node:net";

/** A running proxy. */
export interface TcpProxy {
  /** The local port clients connect to; it stays the same across cut and restore. */
  readonly port: number;
  /** Connections currently open through the proxy. */
  readonly openConnections: number;
  /** Connections accepted since the proxy started. */
  readonly acceptedConnections: number;
  /** The delay added to every chunk from now on, in ms (0 = none); chunks already held keep their delay. */
  latencyMs: number;
  /**
   * Drops every byte of the connections open now, both ways, without closing them: a peer that vanished without a
   * reset (a dead NAT entry, a pulled cable). Connections opened later pass normally.
   */
  silenceOpenConnections(): void;
  /** Resolves once every chunk held so far has been passed on. */
  drained(): Promise<void>;
  /** Stops accepting and destroys every open connection; resolves once the port is closed. */
  cut(): Promise<void>;
  /**
   * From now on every byte either way is dropped and new connections are accepted but never reach the target; no
   * connection is closed. `restore()` ends it by resetting every connection that lived through it (their bytes are
   * lost, so they cannot resume), as a firewall that lost its connection state would; `restore({ reset: false })`
   * leaves them open and silent for good (dead paths nobody is told about), while new connections pass again.
   */
  blackHole(): void;
  /** Listens again on the same port, or ends a black hole. */
  restore(options?: { reset?: boolean }): Promise<void>;
  /** Cuts and stays down. */
  close(): Promise<void>;
}

/** Starts a proxy on 127.0.0.1 (a free port unless `port` is given) forwarding to `target`. */
export async function startTcpProxy(target: { host: string; port: number }, port = 0): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  let server: net.Server | undefined;
  let latencyMs = 0;
  let held = 0;
  let onDrained: Array<() => void> = [];
  let silent = false;
  // Connections that pass nothing for good (silenced, or kept open through a black hole).
  const dead = new Set<net.Socket>();

  // Each chunk is due `latencyMs` after it arrived; chaining the writes keeps the byte order. Without latency and
  // nothing held, a chunk goes straight through.
  const forward = (from: net.Socket, to: net.Socket): void => {
    let chain = Promise.resolve();
    from.on("data", (chunk: Buffer) => {
      if (silent || dead.has(from)) return;
      if (latencyMs === 0 && held === 0) {
        if (!to.destroyed) to.write(chunk);
        return;
      }
      const due = Date.now() + latencyMs;
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

  const track = (socket: net.Socket): void => {
    sockets.add(socket);
    socket.once("close", () => {
      sockets.delete(socket);
      dead.delete(socket);
    });
  };
  const onConnection = (client: net.Socket): void => {
    accepted++;
    if (silent) {
      track(client);
      client.on("error", () => {});
      return;
    }
    const upstream = net.connect(target.port, target.host);
    track(client);
    track(upstream);
    forward(client, upstream);
    forward(upstream, client);
    // Either side failing or closing takes the other down, as a real network cut would.
    for (const [socket, other] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
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

  const boundPort = await listen(port);
  const cut = async (): Promise<void> => {
    const current = server;
    server = undefined;
    const closed =
      current === undefined ? Promise.resolve() : new Promise<void>((resolve) => current.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };

  return {
    port: boundPort,
    get latencyMs() {
      return latencyMs;
    },
    set latencyMs(ms: number) {
      latencyMs = ms;
    },
    get openConnections() {
      return sockets.size;
    },
    get acceptedConnections() {
      return accepted;
    },
    silenceOpenConnections() {
      for (const socket of sockets) dead.add(socket);
    },
    drained: () => (held === 0 ? Promise.resolve() : new Promise<void>((resolve) => onDrained.push(resolve))),
    cut,
    blackHole() {
      silent = true;
    },
    async restore({ reset = true } = {}) {
      if (silent) {
        silent = false;
        for (const socket of sockets) {
          if (reset) socket.destroy();
          else dead.add(socket);
        }
      }
      if (server === undefined) await listen(boundPort);
    },
    close: cut,
  };
}
