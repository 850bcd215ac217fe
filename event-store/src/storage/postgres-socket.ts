import { connect, type Socket } from "node:net";

/** What postgres.js passes its `socket` option: the parsed hosts and ports, or a Unix socket's path. */
interface SocketOptions {
  readonly host: readonly string[];
  readonly port: readonly number[];
  readonly path?: string | false;
}

/**
 * postgres.js's `socket` option: the connection it would dial, with TCP_NODELAY set. postgres.js 3.4 (pinned) leaves
 * Nagle's algorithm on, and a COPY sends its rows and then the small CopyDone message behind them: the kernel held
 * each last small segment until PostgreSQL acknowledged the one before, which it delays by up to 40 ms, so a 500-row
 * COPY took 100 ms where its statement took 17 (measured). Every other message postgres.js writes goes alone and is
 * answered before the next, so the option changes nothing else.
 *
 * Hosts are tried in turn, a connection each (postgres.js moves to the next host after every dial); postgres.js writes
 * its first message at once, which Node sends once the socket connects, and handles the socket's errors, its connect
 * timeout and TLS as for a socket of its own.
 */
export function noDelaySockets(): (options: SocketOptions) => Socket {
  let dials = 0;
  return (options) => {
    const at = dials++ % Math.max(1, options.host.length);
    const host = options.host[at] ?? "localhost";
    const port = options.port[at] ?? 5432;
    const socket = options.path ? connect({ path: options.path }) : connect({ host, port, noDelay: true });
    // postgres.js reads these (TLS's server name); it listens for errors once this returns: none is lost meanwhile.
    Object.assign(socket, { host, port });
    socket.on("error", () => {});
    return socket;
  };
}
