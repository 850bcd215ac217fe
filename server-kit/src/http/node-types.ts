import type * as http from "node:http";
import type * as http2 from "node:http2";

/** A request from either the HTTP/1.1 or the HTTP/2 server; both share one handler. */
export type NodeRequest = http.IncomingMessage | http2.Http2ServerRequest;

/** The response matching {@link NodeRequest}. */
export type NodeResponse = http.ServerResponse | http2.Http2ServerResponse;

/** A plain request handler that works over HTTP/1.1 and HTTP/2 alike. */
export type NodeHandler = (req: NodeRequest, res: NodeResponse) => void;

/** Write a small JSON body; used for /healthz and 404s so every edge answer is machine-readable. */
export function sendJson(res: NodeResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(text)),
    "cache-control": "no-store",
  });
  res.end(text);
}
