/**
 * A TCP proxy for outage tests: put it between the event store and PostgreSQL, then `cut()` it to make the database
 * vanish (every connection reset, new ones refused) and `restore()` it to bring the database back on the same port,
 * without touching the PostgreSQL server other tests share.
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
  /** Stops accepting and destroys every open connection; resolves once the port is closed. */
  cut(): Promise<void>;
  /** Listens again on the same port. */
  restore(): Promise<void>;
  /** Cuts and stays down. */
  close(): Promise<void>;
}

/** Starts a proxy on 127.0.0.1 (a free port unless `port` is given) forwarding to `target`. */
export async function startTcpProxy(target: { host: string; port: number }, port = 0): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  let server: net.Server | undefined;

  const track = (socket: net.Socket): void => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  };
  const onConnection = (client: net.Socket): void => {
    accepted++;
    const upstream = net.connect(target.port, target.host);
    track(client);
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
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
    get openConnections() {
      return sockets.size;
    },
    get acceptedConnections() {
      return accepted;
    },
    cut,
    async restore() {
      if (server === undefined) await listen(boundPort);
    },
    close: cut,
  };
}
