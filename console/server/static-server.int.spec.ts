import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startConsoleServer, type ConsoleServer } from "./static-server.js";

// The server on a real socket, over a directory laid out as `vite build` lays it out, with a secret beside it (where
// package.json is beside console/dist) that no path may reach. Requests go through node:http, which sends the path
// as written: fetch would resolve `..` before sending.

const csp =
  "default-src 'self'; connect-src 'self' http: https:; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";
const config = { eventStoreUrl: "http://127.0.0.1:18081", crudStoreUrl: "https://crud.example.org" };
const files = {
  "index.html": '<!doctype html><script type="module" src="./assets/index-AbC123.js"></script>',
  "assets/index-AbC123.js": "console.info('the console');",
  "assets/index-DeF456.css": "body { margin: 0 }",
  "assets/logo-9z8y7x.svg": "<svg xmlns='http://www.w3.org/2000/svg'/>",
  "assets/data-00aa11.bin": "\u0000\u0001",
  "robots.txt": "User-agent: *",
};
const secret = '{"name":"secret-outside-root"}';

let work = "";
let root = "";
let server: ConsoleServer;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "eskit-console-static-"));
  root = join(work, "dist");
  await mkdir(join(root, "assets"), { recursive: true });
  for (const [path, text] of Object.entries(files)) await writeFile(join(root, path), text);
  await writeFile(join(work, "package.json"), secret);
  server = await startConsoleServer({ root, host: "127.0.0.1", port: 0, config });
});

afterAll(async () => {
  await server?.close();
  await rm(work, { recursive: true, force: true });
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request with the path sent exactly as given. */
function get(path: string, method = "GET"): Promise<Answer> {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("the console's static server", () => {
  it("serves index.html at / and by name, never cached without revalidation, with the security headers", async () => {
    for (const path of ["/", "/index.html", "/?from=bookmark"]) {
      const answer = await get(path);
      expect(answer.status, path).toBe(200);
      expect(answer.body, path).toBe(files["index.html"]);
      expect(answer.headers["content-type"], path).toBe("text/html; charset=utf-8");
      expect(answer.headers["content-length"], path).toBe(String(Buffer.byteLength(files["index.html"])));
      expect(answer.headers["cache-control"], path).toBe("no-cache");
      expect(answer.headers["content-security-policy"], path).toBe(csp);
      expect(answer.headers["x-content-type-options"], path).toBe("nosniff");
      expect(answer.headers["referrer-policy"], path).toBe("no-referrer");
    }
  });

  it("serves hashed assets with their content types, cached for a year as immutable; other files revalidated", async () => {
    const expected: Array<[string, string, string]> = [
      ["/assets/index-AbC123.js", "text/javascript; charset=utf-8", "public, max-age=31536000, immutable"],
      ["/assets/index-DeF456.css", "text/css; charset=utf-8", "public, max-age=31536000, immutable"],
      ["/assets/logo-9z8y7x.svg", "image/svg+xml", "public, max-age=31536000, immutable"],
      ["/assets/data-00aa11.bin", "application/octet-stream", "public, max-age=31536000, immutable"],
      ["/robots.txt", "text/plain; charset=utf-8", "no-cache"],
    ];
    for (const [path, type, cache] of expected) {
      const answer = await get(path);
      expect([answer.status, answer.headers["content-type"], answer.headers["cache-control"]], path).toEqual([
        200,
        type,
        cache,
      ]);
      expect(answer.body, path).toBe(files[path.slice(1) as keyof typeof files]);
      expect(answer.headers["content-security-policy"], path).toBe(csp);
    }
  });

  it("serves /config.json with the configured URLs, never cached", async () => {
    const answer = await get("/config.json");
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual(config);
    expect(answer.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(answer.headers["cache-control"]).toBe("no-store");
    expect(answer.headers["content-length"]).toBe(String(Buffer.byteLength(answer.body)));
  });

  it("answers HEAD like GET without a body", async () => {
    for (const path of ["/", "/assets/index-AbC123.js", "/config.json", "/healthz", "/missing.js"]) {
      const [head, body] = [await get(path, "HEAD"), await get(path)];
      expect(head.status, path).toBe(body.status);
      expect(head.body, path).toBe("");
      for (const name of ["content-type", "content-length", "cache-control", "content-security-policy"])
        expect(head.headers[name], `${path} ${name}`).toBe(body.headers[name]);
    }
  });

  it("refuses every other method with 405 and says which are allowed", async () => {
    for (const [method, path] of [
      ["POST", "/"],
      ["PUT", "/index.html"],
      ["DELETE", "/config.json"],
      ["OPTIONS", "/"],
      ["POST", "/healthz"],
    ] as const) {
      const answer = await get(path, method);
      expect([answer.status, answer.headers["allow"]], `${method} ${path}`).toEqual([405, "GET, HEAD"]);
    }
  });

  it("answers 404 to paths that climb out of its root, written plainly or encoded, and never serves the file there", async () => {
    for (const path of [
      "/../package.json",
      "/assets/../../package.json",
      "/%2e%2e/package.json",
      "/%2E%2E/package.json",
      "/%2e%2e%2fpackage.json",
      "/assets/..%2f..%2fpackage.json",
      "/..%2f..%2f..%2f..%2fetc/passwd",
      "/%2e%2e%5cpackage.json",
      "//package.json",
    ]) {
      const answer = await get(path);
      expect(answer.status, path).toBe(404);
      expect(answer.body, path).not.toContain("secret-outside-root");
      expect(answer.headers["cache-control"], path).toBe("no-store");
    }
  });

  it("answers 404 to files that are not there and to directories, 400 to targets that are not paths", async () => {
    for (const path of ["/missing.js", "/assets", "/assets/", "/index.html%00.js"])
      expect((await get(path)).status, path).toBe(404);
    for (const path of ["/%E0%A4%A", "/%", "http://elsewhere.example/index.html"])
      expect((await get(path)).status, path).toBe(400);
  });

  it("answers /healthz 200 while the built index.html is there, 503 once it is gone", async () => {
    const ok = await get("/healthz");
    expect([ok.status, JSON.parse(ok.body), ok.headers["cache-control"]]).toEqual([200, { status: "ok" }, "no-store"]);
    await rename(join(root, "index.html"), join(root, "index.html.away"));
    try {
      const gone = await get("/healthz");
      expect([gone.status, JSON.parse(gone.body)]).toEqual([503, { status: "unavailable" }]);
    } finally {
      await rename(join(root, "index.html.away"), join(root, "index.html"));
    }
    expect((await get("/healthz")).status).toBe(200);
  });

  it("closes promptly with an idle keep-alive connection open, and then refuses connections", async () => {
    const other = await startConsoleServer({ root, host: "127.0.0.1", port: 0, config });
    const { hostname, port } = new URL(other.url);
    const socket = connect(Number(port), hostname);
    await new Promise<void>((resolve) => socket.once("connect", resolve));
    socket.write(`GET /config.json HTTP/1.1\r\nHost: ${hostname}\r\nConnection: keep-alive\r\n\r\n`);
    await new Promise<void>((resolve) => socket.once("data", () => resolve()));
    const closedSocket = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    const started = Date.now();
    await other.close({ timeoutMs: 5000 });
    await closedSocket;
    expect(Date.now() - started).toBeLessThan(1000);
    await expect(fetch(`${other.url}/healthz`)).rejects.toThrow();
  });

  it("listens on the port it was given and names 127.0.0.1 in its URL when it listens on every interface", async () => {
    const other = await startConsoleServer({ root, host: "0.0.0.0", port: 0, config });
    try {
      expect(other.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/u);
      expect((await fetch(`${other.url}/config.json`)).status).toBe(200);
    } finally {
      await other.close();
    }
  });
});
