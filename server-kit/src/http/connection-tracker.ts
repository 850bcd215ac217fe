import type * as http2 from "node:http2";
import type * as net from "node:net";
import type { NodeResponse } from "./node-types.js";

interface Tracked {
  /** "sniffing" until the first bytes decide the protocol. */
  kind: "sniffing" | "http1" | "http2";
  /** HTTP/1.1 requests whose response has not closed yet. */
  inFlight: number;
}

/**
 * Knows every open connection, so shutdown can close idle ones at once, let
 * busy ones finish, and destroy whatever is left at the deadline. Node's
 * servers cannot do this for us: the http/http2 servers here never `listen`
 * (sockets are handed to them), and `http2.Server#close` waits forever on
 * idle sessions that clients keep open.
 */
export class ConnectionTracker {
  readonly #sockets = new Map<net.Socket, Tracked>();
  readonly #sessions = new Set<http2.ServerHttp2Session>();
  readonly #emptyWaiters = new Set<() => void>();
  #draining = false;

  /** True once {@link drain} ran: new HTTP/1.1 responses should close their connection. */
  get draining(): boolean {
    return this.#draining;
  }

  /** Open connections (any protocol, including ones still being sniffed). */
  get size(): number {
    return this.#sockets.size;
  }

  addSocket(socket: net.Socket): void {
    this.#sockets.set(socket, { kind: "sniffing", inFlight: 0 });
    socket.once("close", () => {
      this.#sockets.delete(socket);
      if (this.#sockets.size === 0) for (const wake of this.#emptyWaiters) wake();
    });
  }

  /** Record the protocol the sniffer chose, before the socket is handed over. */
  markProtocol(socket: net.Socket, kind: "http1" | "http2"): void {
    const entry = this.#sockets.get(socket);
    if (entry) entry.kind = kind;
  }

  // `session.socket` is a proxy, not our socket: sessions are tracked on their own.
  addSession(session: http2.ServerHttp2Session): void {
    this.#sessions.add(session);
    session.once("close", () => this.#sessions.delete(session));
    if (this.#draining) session.close();
  }

  /** Count an HTTP/1.1 request until its response closes. */
  trackHttp1Request(socket: net.Socket, res: NodeResponse): void {
    const entry = this.#sockets.get(socket);
    if (!entry) return;
    entry.inFlight++;
    res.once("close", () => {
      entry.inFlight--;
      if (this.#draining && entry.inFlight === 0) endGracefully(socket);
    });
  }

  /**
   * Start closing: GOAWAY to every HTTP/2 session (open streams may finish),
   * close idle HTTP/1.1 keep-alive connections and undecided sockets now;
   * busy HTTP/1.1 connections close when their last response does.
   */
  drain(): void {
    this.#draining = true;
    for (const session of this.#sessions) session.close();
    for (const [socket, entry] of this.#sockets) {
      if (entry.kind === "sniffing") socket.destroy();
      else if (entry.kind === "http1" && entry.inFlight === 0) endGracefully(socket);
    }
  }

  /** Resolves true once every connection is closed, false if `timeoutMs` passes first. */
  whenEmpty(timeoutMs: number): Promise<boolean> {
    if (this.#sockets.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (result: boolean): void => {
        clearTimeout(timer);
        this.#emptyWaiters.delete(wake);
        resolve(result);
      };
      const wake = (): void => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.#emptyWaiters.add(wake);
    });
  }

  /** The deadline passed: cut every remaining session and connection. */
  destroyAll(): void {
    for (const session of this.#sessions) session.destroy();
    for (const socket of this.#sockets.keys()) socket.destroy();
  }
}

/** Flush what was written, then close; `end()` alone would wait for the peer's FIN. */
function endGracefully(socket: net.Socket): void {
  if (socket.destroyed) return;
  if (socket.writableEnded) {
    socket.destroy();
    return;
  }
  socket.once("finish", () => socket.destroy());
  socket.end();
}
