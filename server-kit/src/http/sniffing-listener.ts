import * as net from "node:net";

/** The connection preface every HTTP/2 client sends first (RFC 9113 §3.4). */
const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

/** Options of {@link createSniffingListener}. */
export interface SniffingListenerOptions {
  /** Receives sockets whose first bytes are not the HTTP/2 preface (HTTP/1.x). */
  onHttp1(socket: net.Socket): void;
  /** Receives sockets that opened with the HTTP/2 preface (cleartext, prior knowledge). */
  onHttp2(socket: net.Socket): void;
  /** Called for every accepted socket, before sniffing, so shutdown can find it. */
  onSocket?(socket: net.Socket): void;
  /** Destroy a connection that has not sent enough bytes to decide within this time. */
  sniffTimeoutMs?: number;
}

/**
 * Decide from the first bytes whether `buffered` is HTTP/2: "h2" when the
 * whole preface is there, "h1" as soon as a byte differs, undefined while the
 * bytes so far are a strict prefix of the preface.
 */
export function classify(buffered: Buffer): "h1" | "h2" | undefined {
  const n = Math.min(buffered.length, H2_PREFACE.length);
  if (!buffered.subarray(0, n).equals(H2_PREFACE.subarray(0, n))) return "h1";
  return buffered.length >= H2_PREFACE.length ? "h2" : undefined;
}

/**
 * A TCP listener serving HTTP/1.1 and cleartext HTTP/2 on one port. Node's
 * cleartext `http2` server ignores `allowHTTP1`, so we peek at each
 * connection's first bytes, push them back, and hand the socket to the right
 * server. A client may send the preface in several small chunks, so we
 * buffer until the bytes decide.
 */
export function createSniffingListener(opts: SniffingListenerOptions): net.Server {
  const timeoutMs = opts.sniffTimeoutMs ?? 10_000;
  // noDelay: the http/http2 servers set it only on sockets they accept themselves; without it Nagle's algorithm holds
  // small responses back (measured: 6 ms per unary call instead of under 1).
  return net.createServer({ noDelay: true }, (socket) => {
    opts.onSocket?.(socket);
    let buffered: Buffer = Buffer.alloc(0);
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    const stop = (): void => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("error", onGone);
      socket.off("end", onGone);
    };
    // Before hand-off nobody else listens: an error or early EOF just drops the socket.
    const onGone = (): void => {
      stop();
      socket.destroy();
    };
    const onData = (chunk: Buffer): void => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      const kind = classify(buffered);
      if (kind === undefined) return;
      stop();
      socket.pause();
      socket.unshift(buffered);
      if (kind === "h2") {
        // Http2Session drains the socket's read buffer itself when created.
        opts.onHttp2(socket);
      } else {
        // The http server reads later bytes straight from the handle and
        // never resumes the stream: resume it so the pushed-back bytes
        // reach the parser (on next tick, before any further read).
        opts.onHttp1(socket);
        socket.resume();
      }
    };
    socket.on("data", onData);
    socket.on("error", onGone);
    socket.on("end", onGone);
  });
}
