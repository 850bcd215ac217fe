/**
 * Serves the browser test's page (an HTML shell plus app.ts bundled by esbuild) from a local HTTP server, so
 * the page has an origin of its own, different from the event store's.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

/** app.ts and everything it imports (`@eskit/client`, connect-web, protobuf-es) as one browser script. */
export async function bundlePage(): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL("./app.ts", import.meta.url))],
    bundle: true,
    // platform "browser": an accidental import of a Node built-in anywhere in the client fails the bundle.
    platform: "browser",
    format: "esm",
    target: "es2022",
    write: false,
    logLevel: "silent",
  });
  return result.outputFiles[0]!.text;
}

/** A running page server. */
export interface PageServer {
  /** e.g. `http://127.0.0.1:40123`: what the browser sends as `Origin`. */
  origin: string;
  close(): Promise<void>;
}

const html = `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>eskit browser e2e</title>
<script type="module" src="/app.js"></script></head><body></body></html>`;

/** Serves `/` (the HTML shell) and `/app.js` (the bundle) on a free port of 127.0.0.1. */
export async function startPageServer(script: string): Promise<PageServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?", 1)[0];
    if (req.method === "GET" && path === "/") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
      res.end(html);
    } else if (req.method === "GET" && path === "/app.js") {
      res.writeHead(200, { "content-type": "text/javascript; charset=utf-8", "cache-control": "no-store" });
      res.end(script);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
