import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize, sep } from "node:path";

/** What {@link startConsoleServer} serves and where. */
export interface ConsoleServerOptions {
  /** The built console (`console/dist`). */
  readonly root: string;
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Served as `/config.json`: where the page's calls go unless the person changes it on the Access page. */
  readonly config: { readonly eventStoreUrl: string; readonly crudStoreUrl: string };
}

/** A running console server. */
export interface ConsoleServer {
  /** e.g. `http://127.0.0.1:8080` */
  readonly url: string;
  /**
   * Stops accepting connections, lets the answers in flight finish for up to `timeoutMs` (default 0: none), then
   * closes every connection that is left, idle keep-alive ones included, so that it never waits on a browser.
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

const contentTypes: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".png": "image/png",
  ".svg": "image/svg+xml",
  ".ico": "image/x-icon",
  ".webp": "image/webp",
  ".woff2": "font/woff2",
};

/**
 * The page may call any http(s) origin (the services' URLs can be changed on the Access page), but runs only its own
 * scripts and styles, so an event payload shown on a page can never run as code.
 */
const securityHeaders = {
  "content-security-policy":
    "default-src 'self'; connect-src 'self' http: https:; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

/** A small answer of the server's own (errors, config.json, /healthz): never cached. */
function send(req: IncomingMessage, res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, {
    ...securityHeaders,
    "content-type": type,
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
  });
  res.end(req.method === "HEAD" ? undefined : body);
}

const text = "text/plain; charset=utf-8";

/**
 * The path of a request target, decoded; undefined when it is not a path (an absolute-form target, a bad escape).
 * Parsed against a fixed origin so that `//host/x` stays a path: `new URL("//host/x", base)` would take `host` for a
 * host name.
 */
function pathOf(target: string): string | undefined {
  if (!target.startsWith("/")) return undefined;
  try {
    return decodeURIComponent(new URL(`http://console${target}`).pathname);
  } catch {
    return undefined;
  }
}

/**
 * Serves the console's static files, its `config.json` and `/healthz`, nothing else: the console has no server logic
 * of its own. Only GET and HEAD; paths are confined to `root` (after decoding, so `%2e%2e%2f` cannot climb out).
 * Hashed assets (`assets/`) are cached for a year, the page and its config never, so a new build is picked up on the
 * next load. `/healthz` answers 200 while `root` holds an `index.html`, 503 otherwise (a volume unmounted, a build
 * wiped): the page could not load then.
 */
export async function startConsoleServer(options: ConsoleServerOptions): Promise<ConsoleServer> {
  const root = normalize(options.root);
  const rootPrefix = root.endsWith(sep) ? root : root + sep;
  const config = JSON.stringify(options.config);
  const server: Server = createServer((req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("allow", "GET, HEAD");
      return send(req, res, 405, text, "method not allowed\n");
    }
    const path = pathOf(req.url ?? "/");
    if (path === undefined) return send(req, res, 400, text, "bad path\n");
    if (path === "/config.json") return send(req, res, 200, contentTypes[".json"] as string, config);
    if (path === "/healthz") {
      const health = (ok: boolean) =>
        send(req, res, ok ? 200 : 503, "application/json", JSON.stringify({ status: ok ? "ok" : "unavailable" }));
      void stat(join(root, "index.html")).then(
        (info) => health(info.isFile()),
        () => health(false),
      );
      return;
    }
    const file = normalize(join(root, path === "/" ? "index.html" : path));
    if (!file.startsWith(rootPrefix)) return send(req, res, 404, text, "not found\n");
    void stat(file).then(
      (info) => {
        if (!info.isFile()) return send(req, res, 404, text, "not found\n");
        const hashed = file.startsWith(`${rootPrefix}assets${sep}`);
        res.writeHead(200, {
          ...securityHeaders,
          "content-type": contentTypes[extname(file)] ?? "application/octet-stream",
          "content-length": info.size,
          "cache-control": hashed ? "public, max-age=31536000, immutable" : "no-cache",
        });
        if (req.method === "HEAD") return res.end();
        createReadStream(file)
          .on("error", () => res.destroy())
          .pipe(res);
      },
      () => send(req, res, 404, text, "not found\n"),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(":")
    ? `[${options.host}]`
    : options.host === "0.0.0.0"
      ? "127.0.0.1"
      : options.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    close: ({ timeoutMs = 0 } = {}) =>
      (closing ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.closeAllConnections(), timeoutMs);
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        // Keep-alive connections with no request in flight would hold close() until the browser lets go.
        server.closeIdleConnections();
      })),
  };
}
