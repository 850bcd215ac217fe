import { Code, ConnectError } from "@connectrpc/connect";
import type { UniversalServerResponse } from "@connectrpc/connect/protocol";
import type { NodeResponse } from "./node-types.js";

/** How {@link writeUniversalResponse} treats a client that stops taking the messages of a stream. */
export interface WriteResponseOptions {
  /**
   * Longest wait for the transport to take one message (HTTP/1.1 'drain', HTTP/2 flow control), in ms; past it the
   * stream is a stalled reader: it is cut and its memory freed.
   */
  readonly stallTimeoutMs: number;
  /** Told when a stream is cut as stalled (for the log). */
  readonly onStalled?: () => void;
}

/**
 * Writes a Connect answer to a Node response, one message at a time: the next message is asked of the handler only
 * once the transport has taken the previous one, so a stream holds at most one message in the transport.
 *
 * It replaces connect-node's `universalResponseToNodeResponse`, whose write waits for 'drain' or 'error' only: when
 * the client goes away with a write pending, neither comes, the handler stays suspended forever, and its memory, its
 * stream slot and its place in `eskit_rpc_streams_open` are never given back. Here a closed response, a failed write
 * or a write the transport has not taken within `stallTimeoutMs` ends the handler (its `finally` blocks run).
 */
export async function writeUniversalResponse(
  response: UniversalServerResponse,
  res: NodeResponse,
  options: WriteResponseOptions,
): Promise<void> {
  let closed = false;
  const onClose = (): void => {
    closed = true;
  };
  res.once("close", onClose);
  const it = response.body?.[Symbol.asyncIterator]();
  let writing = false;
  try {
    if (it !== undefined) {
      // Headers go after the first message is produced: the handler may still set some.
      let chunk = await it.next();
      if (!closed) res.writeHead(response.status, nodeHeaders(response.header));
      for (; chunk.done !== true; chunk = await it.next()) {
        writing = true;
        await write(res, chunk.value, () => closed, options);
        writing = false;
      }
    }
    if (closed) throw goneError();
    if (!res.headersSent) res.writeHead(response.status, nodeHeaders(response.header));
    if (response.trailer !== undefined) res.addTrailers(nodeHeaders(response.trailer));
    await end(res);
  } catch (error) {
    // The handler learns why its stream stopped: an error thrown where it yielded runs its cleanup.
    if (writing) void it?.throw?.(error).catch(() => {});
    throw error;
  } finally {
    res.off("close", onClose);
    void it?.return?.(undefined).catch(() => {});
  }
}

function goneError(): ConnectError {
  return new ConnectError("the client closed the stream", Code.Canceled);
}

/** A write the transport failed (a reset stream, a broken socket): the network's doing, not ours. */
function failedWrite(cause: Error): ConnectError {
  return new ConnectError(`the connection failed: ${cause.message}`, Code.Unavailable, undefined, undefined, cause);
}

const taken: Promise<void> = Promise.resolve();

/**
 * Writes one message; resolves once the transport took it. Most writes are taken at once and cost no promise, timer
 * or listener of their own (LogsPoll's live entries go out as many small writes, and the listeners added and removed
 * around each showed in the profile of 100 live streams); one the transport could not take waits for 'drain' (or
 * 'close', 'error', the stall timeout).
 */
function write(
  res: NodeResponse,
  data: Uint8Array,
  isClosed: () => boolean,
  options: WriteResponseOptions,
): Promise<void> {
  if (isClosed()) return Promise.reject(goneError());
  // A failed write reports to its callback after `write` returned (on a later tick); the callback also keeps a
  // failure after the message was taken from becoming an uncaught 'error' event.
  const state: { failure?: ConnectError; fail?: (error: ConnectError) => void } = {};
  const ok = (res as { write(chunk: Uint8Array, cb: (error?: Error | null) => void): boolean }).write(data, (error) => {
    if (!error) return;
    const failure = failedWrite(error);
    if (state.fail !== undefined) state.fail(failure);
    else state.failure ??= failure;
  });
  if (ok) return taken;
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const settle = (error?: unknown): void => {
      clearTimeout(timer);
      res.off("drain", onDrain);
      res.off("close", onClose);
      res.off("error", onError);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onDrain = (): void => settle();
    const onClose = (): void => settle(goneError());
    const onError = (error: Error): void => settle(failedWrite(error));
    if (state.failure !== undefined) return settle(state.failure);
    // Closed while the write was handed over: 'close' came before the listener.
    if (isClosed()) return settle(goneError());
    state.fail = settle;
    res.once("drain", onDrain);
    res.once("close", onClose);
    res.once("error", onError);
    timer = setTimeout(() => {
      settle(new ConnectError(`the client took no message for ${options.stallTimeoutMs} ms`, Code.ResourceExhausted));
      options.onStalled?.();
      cut(res);
    }, options.stallTimeoutMs);
  });
}

/** Ends a stalled stream so what it buffered is freed: HTTP/2 resets only the stream, HTTP/1.1 closes the socket. */
function cut(res: NodeResponse): void {
  if ("stream" in res) {
    // ENHANCE_YOUR_CALM: gRPC and Connect clients read it as resource_exhausted.
    res.stream.close(0x0b);
  } else {
    res.destroy();
  }
}

function end(res: NodeResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off("finish", done);
      res.off("close", done);
      resolve();
    };
    res.once("finish", done);
    res.once("close", done);
    res.end();
  });
}

/** Web headers as Node's: repeated `set-cookie` stays a list, others are joined as fetch joins them. */
export function nodeHeaders(headers: Headers | undefined): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null);
  if (headers === undefined) return out;
  headers.forEach((value, key) => {
    out[key] = value;
  });
  const cookies = headers.getSetCookie();
  if (cookies.length > 0) out["set-cookie"] = cookies;
  return out;
}
