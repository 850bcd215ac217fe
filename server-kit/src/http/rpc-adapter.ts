import * as http2 from "node:http2";
import { Code, ConnectError, createConnectRouter, createContextValues } from "@connectrpc/connect";
import type { ConnectRouter, ConnectRouterOptions } from "@connectrpc/connect";
import { compressionBrotli, compressionGzip, universalRequestFromNodeRequest } from "@connectrpc/connect-node";
import { createAsyncIterable, type UniversalHandler } from "@connectrpc/connect/protocol";
import type { Logger } from "../logger.js";
import { protocolOf } from "../logging-interceptor.js";
import { codeName } from "../rpc-outcome.js";
import type { NodeHandler, NodeRequest, NodeResponse } from "./node-types.js";
import { guardRequestBody, requestFraming } from "./request-body-guard.js";
import { MessageClock, requestClockKey } from "./request-clock.js";
import { recordingRouter } from "./rpc-lane.js";
import { type WriteResponseOptions, writeUniversalResponse } from "./write-response.js";

/** Options of {@link rpcAdapter}: Connect's router options, plus what the adapter adds. */
export interface RpcAdapterOptions extends ConnectRouterOptions, WriteResponseOptions {
  routes: (router: ConnectRouter) => void;
  /** Requests for paths no RPC serves. */
  fallback: NodeHandler;
  readMaxBytes: number;
  /**
   * A request body must have arrived this long after the call started; each message of a stream of requests this long
   * after the server waited for it (see `guardRequestBody`).
   */
  requestBodyTimeoutMs: number;
  logger: Logger;
  /**
   * Answer the common unary and server-streaming calls through the lane (see rpc-lane.ts); default true. It needs
   * answers that are never compressed (`compressMinBytes` of Number.MAX_SAFE_INTEGER), and is off otherwise.
   */
  lane?: boolean;
}

/**
 * connect-node's `connectNodeAdapter`, with every request body passed through `guardRequestBody` first: Connect
 * parses a unary request before any interceptor runs and answers a message it cannot parse with `internal`, so the
 * only place to answer `invalid_argument` (and to bound the time a body may take) is between the socket and Connect.
 * It also ends an HTTP/2 request stream whose body the answer left unread (RST_STREAM NO_ERROR, RFC 9113 §8.1), so a
 * client still sending a refused message stops at once instead of waiting on flow control forever. Answers are
 * written by {@link writeUniversalResponse}, so a stream whose client is gone or stalled always ends.
 */
export function rpcAdapter(opts: RpcAdapterOptions): (req: NodeRequest, res: NodeResponse) => void {
  const log = opts.logger;
  const routerOptions = { acceptCompression: [compressionGzip, compressionBrotli], ...opts };
  const router = createConnectRouter(routerOptions);
  const recorded = recordingRouter(router, {
    ...routerOptions,
    onWriteFailed: (method, error) => log.error("rpc answer could not be written", { method, error: String(error) }),
  });
  opts.routes(recorded.router);
  const lane = opts.lane !== false && opts.compressMinBytes === Number.MAX_SAFE_INTEGER ? recorded.lane : undefined;
  const paths = new Map<string, UniversalHandler>(router.handlers.map((handler) => [handler.requestPath, handler]));

  /** A unary refusal made before any interceptor ran, logged as the logging interceptor logs calls. */
  const logRefusal = (req: NodeRequest, method: string, started: number, error: ConnectError): void => {
    log.info("rpc", {
      method,
      protocol: protocolOf(req.headers["content-type"] ?? null),
      code: codeName(error.code),
      duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
      reason: error.rawMessage,
    });
  };
  const leaveUnread = (req: NodeRequest, res: NodeResponse): void => {
    if (!("stream" in req)) res.once("finish", () => drainOrClose(req));
  };

  /** Through connect-es; `body`: the request body, already read whole (by the lane). */
  const full = (
    req: NodeRequest,
    res: NodeResponse,
    handler: UniversalHandler,
    started: number,
    body?: Uint8Array,
  ): void => {
    // A stream of requests lasts as long as the call: its body is timed message by message, on a clock that the
    // handler pauses while the server has the turn (see request-clock.ts).
    const perMessage =
      handler.method.methodKind === "client_streaming" || handler.method.methodKind === "bidi_streaming";
    const clock = perMessage ? new MessageClock(opts.requestBodyTimeoutMs) : undefined;
    const values = clock === undefined ? undefined : createContextValues().set(requestClockKey, clock);
    const request = universalRequestFromNodeRequest(req, res, undefined, values);
    if (body !== undefined) request.body = createAsyncIterable([body]);
    if (isByteStream(request.body)) {
      const guarded = guardRequestBody(request.body, {
        input: handler.method.input,
        framing: requestFraming(request.header.get("content-type")),
        encoding: request.header.get(encodingHeaderOf(request.header.get("content-type"))) ?? "",
        readMaxBytes: opts.readMaxBytes,
        timeoutMs: opts.requestBodyTimeoutMs,
        perMessage,
        clock,
        onRefuse: (error) => {
          // A stream's refusal reaches the logging interceptor; a unary call's happens before any interceptor runs.
          if (handler.method.methodKind === "unary") logRefusal(req, methodName(handler), started, error);
        },
        onUnread: () => leaveUnread(req, res),
      });
      request.body = guarded;
    }
    handler(request)
      .then((response) => writeUniversalResponse(response, res, opts))
      .catch((reason: unknown) => {
        // Whatever failed, the client must not wait for an answer that will never come: end the exchange (an
        // HTTP/2 stream is reset with INTERNAL_ERROR, an HTTP/1.1 connection closed).
        if (!res.writableEnded) res.destroy(new Error("the answer could not be written"));
        if (!(reason instanceof ConnectError)) {
          // Not a client's doing (a gone or stalled client ends as a ConnectError): a bug of ours.
          log.error("rpc answer could not be written", { method: methodName(handler), error: String(reason) });
        } else if (reason.code !== Code.Aborted && reason.code !== Code.Canceled) {
          // A client that went away (canceled, or aborted by Node) is no news; a stalled one is worth a debug line.
          log.debug("rpc answer not written", { method: methodName(handler), error: String(reason) });
        }
      });
  };

  return (req, res) => {
    const path = (req.url ?? "").split("?", 1)[0] ?? "";
    const handler = paths.get(path);
    if (handler === undefined) return opts.fallback(req, res);
    const started = performance.now();
    endUnreadStreamAfterAnswer(req, res);
    const laned = lane?.serve(req, res, path, {
      fallback: (body) => full(req, res, handler, started, body),
      refused: (error, method) => logRefusal(req, method, started, error),
      unread: () => leaveUnread(req, res),
    });
    if (laned !== true) full(req, res, handler, started);
  };
}

function isByteStream(body: unknown): body is AsyncIterable<Uint8Array> {
  return typeof body === "object" && body !== null && Symbol.asyncIterator in body;
}

function encodingHeaderOf(contentType: string | null): string {
  return requestFraming(contentType)?.encodingHeader ?? "content-encoding";
}

function methodName(handler: UniversalHandler): string {
  return `${handler.service.typeName}/${handler.method.name}`;
}

/** How long, and how many bytes at most, an HTTP/1.1 request body left unread is drained after the answer. */
const drainMs = 5000;
const drainMaxBytes = 64 * 1024 * 1024;

/**
 * Reads and drops the rest of an HTTP/1.1 request body after its answer, so the client, still sending, receives the
 * answer (closing at once would reset the connection under it, and it would see ECONNRESET instead) and may reuse the
 * connection; a client that takes longer than {@link drainMs} or sends more than {@link drainMaxBytes} is cut off.
 */
function drainOrClose(req: NodeRequest): void {
  if (req.complete || "stream" in req) return;
  let drained = 0;
  const cut = (): void => {
    req.socket.destroy();
  };
  const timer = setTimeout(cut, drainMs);
  timer.unref();
  // Read in paused mode: the request already has a "readable" listener (Connect's async iteration), which keeps
  // resume() and "data" listeners from ever making it flow.
  const drain = (): void => {
    for (let chunk = req.read() as Buffer | null; chunk !== null; chunk = req.read() as Buffer | null) {
      drained += chunk.length;
      if (drained > drainMaxBytes) return cut();
    }
  };
  req.on("readable", drain);
  req.once("end", () => clearTimeout(timer));
  req.once("close", () => clearTimeout(timer));
  drain();
}

/** How often, and how long at most, to look whether an answer's last frame has gone out. */
const sentPollMs = 10;
const sentPollLimitMs = 30_000;
/** How long a client still sending has to read a complete answer before its stream is reset. */
const answerReadGraceMs = 250;

/**
 * After the answer, stop an HTTP/2 client that is still sending the request (see {@link rpcAdapter}). Node resets such
 * a stream with NO_ERROR only once its writable side has "finished", which never happens while the client's unread
 * DATA fills the window, and resetting before the trailers went out would drop them; so: wait until the answer's
 * END_STREAM has been sent (`localClose`), then give the client {@link answerReadGraceMs} to read it and close the
 * stream itself, then reset (CANCEL). A client's Node drops what its reader has not taken yet when CANCEL arrives:
 * reset at once, an AppendStream's last answers and its error were lost to the client 5 times in 6 (it saw
 * `unavailable`). The client's unread DATA meanwhile is bounded by the stream's flow-control window.
 */
function endUnreadStreamAfterAnswer(req: NodeRequest, res: NodeResponse): void {
  if (!("stream" in req)) return;
  const stream = req.stream;
  const end = res.end.bind(res) as (...args: unknown[]) => NodeResponse;
  res.end = ((...args: unknown[]) => {
    const result = end(...args);
    if (stream.closed || stream.destroyed || stream.state.remoteClose === 1) return result;
    const giveUpAt = performance.now() + sentPollLimitMs;
    let sentAt: number | undefined;
    const poll = (): void => {
      if (stream.closed || stream.destroyed || stream.state.remoteClose === 1) return;
      if (stream.state.localClose === 1) sentAt ??= performance.now();
      if ((sentAt !== undefined && performance.now() - sentAt >= answerReadGraceMs) || performance.now() > giveUpAt) {
        stream.close(http2.constants.NGHTTP2_CANCEL);
        return;
      }
      setTimeout(poll, sentPollMs).unref();
    };
    poll();
    return result;
  }) as NodeResponse["end"];
}
