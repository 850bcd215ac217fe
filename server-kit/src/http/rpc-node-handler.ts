import { Code, ConnectError, createConnectRouter } from "@connectrpc/connect";
import type { ConnectRouter, ConnectRouterOptions } from "@connectrpc/connect";
import { compressionBrotli, compressionGzip, universalRequestFromNodeRequest } from "@connectrpc/connect-node";
import type { NodeHandler } from "./node-types.js";
import { type WriteResponseOptions, writeUniversalResponse } from "./write-response.js";

/** Options of {@link rpcNodeHandler}. */
export interface RpcNodeHandlerOptions extends ConnectRouterOptions, WriteResponseOptions {
  readonly routes: (router: ConnectRouter) => void;
  /** Requests for paths no RPC serves. */
  readonly fallback: NodeHandler;
  /** Told of calls that failed after their answer started (usually a client that went away). */
  readonly onWriteFailed?: (method: string, error: unknown) => void;
}

/**
 * connect-node's `connectNodeAdapter`, with {@link writeUniversalResponse} writing the answers: the same routing,
 * protocols and compression, but a stream whose client is gone or stalled always ends.
 */
export function rpcNodeHandler(options: RpcNodeHandlerOptions): NodeHandler {
  const router = createConnectRouter({
    ...options,
    acceptCompression: options.acceptCompression ?? [compressionGzip, compressionBrotli],
  });
  options.routes(router);
  const paths = new Map(router.handlers.map((handler) => [handler.requestPath, handler]));
  return (req, res) => {
    const handler = paths.get((req.url ?? "").split("?", 1)[0] ?? "");
    if (handler === undefined) return options.fallback(req, res);
    const request = universalRequestFromNodeRequest(req, res, undefined, undefined);
    handler(request)
      .then((response) => writeUniversalResponse(response, res, options))
      .catch((error: unknown) => {
        const code = ConnectError.from(error).code;
        if (code === Code.Canceled || code === Code.Aborted) return;
        options.onWriteFailed?.(`${handler.service.typeName}/${handler.method.name}`, error);
      });
  };
}
