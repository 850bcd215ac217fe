import { setMaxListeners } from "node:events";
import * as http from "node:http";
import * as http2 from "node:http2";
import type * as net from "node:net";
import { Code, ConnectError } from "@connectrpc/connect";
import type { ConnectRouter, Interceptor } from "@connectrpc/connect";
import type { Registry } from "prom-client";
import type { AuthConfig } from "../auth/auth-config.js";
import { authInterceptor } from "../auth/auth-interceptor.js";
import { type AccessTables, healthAccess } from "../auth/rpc-access.js";
import { requireToken } from "../auth/metrics-guard.js";
import { TokenVerifier } from "../auth/token-verifier.js";
import { boundedErrorsInterceptor } from "../limits/bounded-errors.js";
import { defaultDeadlineInterceptor } from "../limits/default-deadline.js";
import { defaultLimits, type LimitsConfig } from "../limits/limits-config.js";
import { requestFieldsInterceptor } from "../limits/request-fields.js";
import { streamLimitInterceptor } from "../limits/stream-limit.js";
import { streamEndReclaimer } from "../memory/reclaim-after-streams.js";
import type { Logger } from "../logger.js";
import { metricsHandler } from "../metrics/metrics-handler.js";
import { rpcMetricsInterceptor } from "../metrics/rpc-metrics.js";
import { ConnectionTracker } from "./connection-tracker.js";
import { corsHandler } from "./cors.js";
import { healthzHandler } from "./healthz.js";
import type { NodeHandler, NodeRequest, NodeResponse } from "./node-types.js";
import { rpcAdapter } from "./rpc-adapter.js";
import { createSniffingListener } from "./sniffing-listener.js";
import { streamShutdownInterceptor } from "./stream-shutdown.js";

/** After the deadline, how long aborted handlers get to send their error before connections are cut. */
const ABORT_GRACE_MS = 200;

/** Default of {@link HttpServerOptions.streamStallTimeoutMs}. */
export const DEFAULT_STREAM_STALL_TIMEOUT_MS = 60_000;

/** Largest request message of a server that sets none (Connect's own default is 4 GiB). */
const DEFAULT_READ_MAX_BYTES = 4 * 1024 * 1024;

/** Options of {@link startHttpServer}. */
export interface HttpServerOptions {
  /** 0 picks a free port (tests); the chosen one is in the result. */
  port: number;
  host: string;
  routes: (router: ConnectRouter) => void;
  interceptors?: Interceptor[];
  /** Exact browser origins allowed by CORS, or "*" for any. */
  corsOrigins: string[];
  /** Backs `GET /healthz`; false, an error or no answer within 2 s means 503. */
  healthz: () => Promise<boolean>;
  /** Largest request message accepted, in bytes (larger → `resource_exhausted`); 4 MiB when absent. */
  readMaxBytes?: number;
  /**
   * Bearer tokens: with any configured, every RPC that is not `open` (see `auth/rpc-access.ts`) needs one, and
   * `/metrics` too when `metricsAuth` is "token". Absent or without tokens: access control is off.
   */
  auth?: AuthConfig;
  /**
   * Who may call each RPC of `routes` when tokens are configured: the service's own table (its `src/rpc-access.ts`);
   * gRPC health, which every server serves, is open. A method of no table needs a full token.
   */
  access?: AccessTables;
  /** Open streams and the default deadline of unary calls; the defaults of `limitsSpecs` for what is absent. */
  limits?: Partial<LimitsConfig>;
  /**
   * A server stream whose transport has not taken its last message for this long (a client that stopped reading) is
   * cut, so what it buffered is freed; 60 s when absent.
   */
  streamStallTimeoutMs?: number;
  logger: Logger;
  /** Extra `GET` endpoints by exact path (e.g. "/metrics"). */
  extraHandlers?: Record<string, NodeHandler>;
  /**
   * Serve `GET /metrics` from this registry and record every RPC in it (`rpcMetricsInterceptor`, placed before
   * `interceptors` so it sees the codes clients receive). One server per registry.
   */
  metrics?: Registry;
  /** Answer the common unary and server-streaming calls through the lane (see rpc-lane.ts); default true. Tests compare the two. */
  lane?: boolean;
}

/** A listening server. */
export interface RunningHttpServer {
  port: number;
  /** Base URL clients can use, e.g. "http://127.0.0.1:8081". */
  url: string;
  /**
   * Stop accepting, end open server streams with `unavailable`, let other
   * requests finish for up to `timeoutMs` (default 5000), then cut every
   * remaining connection. Safe to call more than once.
   */
  close(opts?: { timeoutMs?: number }): Promise<void>;
}

/**
 * Serve gRPC, gRPC-Web and Connect (JSON and binary) on one port, over
 * HTTP/1.1 and cleartext HTTP/2, plus `/healthz` and CORS for browsers:
 * one port is simpler to deploy, probe and firewall than one per protocol.
 * Every server also gets the same bearer-token access control (`auth`) and
 * request limits (`limits`, `readMaxBytes`), so no service can forget them.
 */
export async function startHttpServer(opts: HttpServerOptions): Promise<RunningHttpServer> {
  const log = opts.logger.child({ component: "http" });
  const tracker = new ConnectionTracker();
  const endStreams = new AbortController();
  const endEverything = new AbortController();
  // Every call in flight listens to these (dozens at once under load): that is not a leak, so no warning.
  setMaxListeners(0, endStreams.signal, endEverything.signal);
  const healthz = healthzHandler(opts.healthz);
  const extra = new Map(Object.entries(opts.extraHandlers ?? {}));
  const interceptors = [...(opts.interceptors ?? [])];
  const verifier = new TokenVerifier({ full: opts.auth?.authTokens ?? [], read: opts.auth?.readTokens ?? [] });
  const metricsAuth = opts.auth?.metricsAuth ?? "open";
  if (metricsAuth === "token" && !verifier.enabled) throw new Error('metricsAuth "token" needs at least one token');
  if (opts.metrics !== undefined) {
    interceptors.unshift(rpcMetricsInterceptor(opts.metrics));
    const metrics = metricsHandler(opts.metrics, (error) =>
      log.warn("collecting metrics failed", { error: String(error) }),
    );
    extra.set("/metrics", metricsAuth === "token" ? requireToken(metrics, verifier) : metrics);
  }
  // Outermost, so that what the client receives is bounded, whatever raised it.
  interceptors.unshift(boundedErrorsInterceptor);
  const limits = { ...defaultLimits, ...opts.limits };
  // A crowd of clients leaving at once leaves their buffers as garbage that an idle process would keep.
  const reclaim = streamEndReclaimer({
    minEnded: 64,
    quietMs: 2000,
    minIntervalMs: 30_000,
    onCollected: (ended, ms) => log.info("memory reclaimed after streams ended", { ended, gc_ms: Math.round(ms) }),
    onTrimmed: (before, after, ms) =>
      log.info("freed C heap given back to the system", {
        rss_before_mib: Math.round(before / 2 ** 20),
        rss_after_mib: Math.round(after / 2 ** 20),
        trim_ms: Math.round(ms),
      }),
  });
  // After the services' own interceptors (logging, error mapping), so refused calls are logged and counted with the
  // code their client sees; authentication before the stream limit, so callers without a token take no stream slot;
  // values no service can store are refused before any handler sees them.
  const guards = [
    ...(verifier.enabled ? [authInterceptor(verifier, new Map([...healthAccess, ...(opts.access ?? [])]))] : []),
    requestFieldsInterceptor,
    streamLimitInterceptor(limits.maxStreams, reclaim),
    defaultDeadlineInterceptor(limits.defaultDeadlineMs),
  ];

  const fallback: NodeHandler = (req, res) => {
    const path = (req.url ?? "").split("?", 1)[0];
    const handler = req.method === "GET" ? (path === "/healthz" ? healthz : extra.get(path ?? "")) : undefined;
    if (handler) return handler(req, res);
    res.writeHead(404);
    res.end();
  };
  const readMaxBytes = opts.readMaxBytes ?? DEFAULT_READ_MAX_BYTES;
  const stallTimeoutMs = opts.streamStallTimeoutMs ?? DEFAULT_STREAM_STALL_TIMEOUT_MS;
  const rpc = rpcAdapter({
    routes: opts.routes,
    interceptors: [...interceptors, ...guards, streamShutdownInterceptor(endStreams.signal)],
    readMaxBytes,
    requestBodyTimeoutMs: limits.requestBodyTimeoutMs,
    logger: log,
    // Compressed requests are accepted, but responses go uncompressed: gzip cost more CPU than the whole rest of
    // streaming the log (catch-up ran 30 % faster without it), and the services usually sit on a fast network.
    compressMinBytes: Number.MAX_SAFE_INTEGER,
    lane: opts.lane ?? true,
    shutdownSignal: endEverything.signal,
    fallback,
    stallTimeoutMs,
    onStalled: () => log.info("stream cut: its client took no message", { stall_timeout_ms: stallTimeoutMs }),
  });
  const applyCors = corsHandler(opts.corsOrigins);
  const onRequest = (req: NodeRequest, res: NodeResponse): void => {
    if (!("stream" in req)) {
      tracker.trackHttp1Request(req.socket, res);
      if (tracker.draining) res.setHeader("connection", "close");
      closeAfterUnreadBody(req, res);
    }
    if (applyCors(req, res)) return;
    rpc(req, res);
  };

  // Slow clients (slowloris): headers must arrive within headersTimeoutMs; the body is timed per call by the RPC
  // adapter, which answers deadline_exceeded; Node's own request timeout (a bare 408) is only the backstop behind it.
  const h1 = http.createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.headersTimeoutMs + limits.requestBodyTimeoutMs + 1000,
      connectionsCheckingInterval: Math.min(1000, Math.floor(limits.headersTimeoutMs / 4)),
    },
    onRequest,
  );
  // Node arms headersTimeout/requestTimeout (slowloris protection) on
  // "listening"; this server never listens itself, so announce it.
  h1.emit("listening");
  // Node's default session memory (10 MB) is less than one large request in flight plus its answer: beyond it, nghttp2
  // resets the stream (ENHANCE_YOUR_CALM) instead of letting the size limit answer `resource_exhausted`.
  const h2 = http2.createServer({ maxSessionMemory: 256 }, onRequest);
  h2.on("session", (session) => tracker.addSession(session));
  h2.on("sessionError", (err) => log.debug("http2 session error", { err }));
  const listener = createSniffingListener({
    onSocket: (socket) => tracker.addSocket(socket),
    onHttp1: (socket) => {
      tracker.markProtocol(socket, "http1");
      h1.emit("connection", socket);
    },
    onHttp2: (socket) => {
      tracker.markProtocol(socket, "http2");
      h2.emit("connection", socket);
    },
  });
  try {
    await listen(listener, opts.port, opts.host);
  } catch (err) {
    h1.close();
    throw err;
  }
  const port = (listener.address() as net.AddressInfo).port;
  const url = `http://${urlHost(opts.host)}:${port}`;
  log.info("listening", { url, host: opts.host, port });
  // How many tokens, never which: the tokens stay out of every log line.
  log.info("access control", {
    auth: verifier.enabled ? "on" : "off",
    full_tokens: opts.auth?.authTokens.length ?? 0,
    read_tokens: opts.auth?.readTokens.length ?? 0,
    metrics: metricsAuth,
    max_streams: limits.maxStreams,
    default_deadline_ms: limits.defaultDeadlineMs,
    read_max_bytes: opts.readMaxBytes ?? DEFAULT_READ_MAX_BYTES,
  });

  let closing: Promise<void> | undefined;
  const close = async (timeoutMs: number): Promise<void> => {
    const stopped = new Promise<void>((resolve) => listener.close(() => resolve()));
    const reason = new ConnectError("server is shutting down", Code.Unavailable);
    endStreams.abort(reason);
    tracker.drain();
    if (!(await tracker.whenEmpty(timeoutMs))) {
      log.warn("shutdown deadline passed, aborting calls", { open_connections: tracker.size, timeout_ms: timeoutMs });
      // Handlers that honour ctx.signal can still answer `unavailable` before the cut.
      endEverything.abort(reason);
      if (!(await tracker.whenEmpty(ABORT_GRACE_MS))) tracker.destroyAll();
    }
    await stopped;
    h1.close(); // clears the timeout checker armed above
    log.info("closed");
  };
  return {
    port,
    url,
    close: (closeOpts) => (closing ??= close(closeOpts?.timeoutMs ?? 5000)),
  };
}

/**
 * Connect stops reading a request body at the size limit and destroys the request, which closes the connection after
 * the answer. Say so in the answer (`connection: close`): otherwise Node's HTTP/1.1 client puts the connection back in
 * its pool, and the next call on it fails with a reset.
 */
function closeAfterUnreadBody(req: NodeRequest, res: NodeResponse): void {
  const destroy = req.destroy.bind(req);
  req.destroy = ((error?: Error | null) => {
    if (!req.complete && !res.headersSent) res.setHeader("connection", "close");
    return destroy(error ?? undefined);
  }) as NodeRequest["destroy"];
}

function listen(server: net.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

/** A host clients can dial: wildcard binds are reached via loopback. */
function urlHost(host: string): string {
  if (host === "0.0.0.0" || host === "") return "127.0.0.1";
  if (host === "::") return "[::1]";
  return host.includes(":") ? `[${host}]` : host;
}
