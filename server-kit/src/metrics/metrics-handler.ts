import type { Registry } from "prom-client";
import type { NodeHandler, NodeResponse } from "../http/node-types.js";
import { renderMetrics } from "./cell-metrics.js";

/**
 * `GET /metrics` in the Prometheus text format (version 0.0.4), for `extraHandlers` of `startHttpServer` (or its
 * `metrics` option, which also counts the RPCs). A collector that fails answers 500 rather than a partial page,
 * which Prometheus would take for series that vanished; `onError` hears why.
 */
export function metricsHandler(registry: Registry, onError?: (error: unknown) => void): NodeHandler {
  return (_req, res) => {
    renderMetrics(registry).then(
      (body) => send(res, 200, registry.contentType, body),
      (error: unknown) => {
        onError?.(error);
        send(res, 500, "text/plain; charset=utf-8", "collecting the metrics failed\n");
      },
    );
  };
}

function send(res: NodeResponse, status: number, contentType: string, body: string): void {
  if (res.writableEnded || res.destroyed) return;
  res.writeHead(status, {
    "content-type": contentType,
    "content-length": String(Buffer.byteLength(body)),
    "cache-control": "no-store",
  });
  res.end(body);
}
