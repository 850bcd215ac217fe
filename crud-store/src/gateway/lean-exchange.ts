import { type ClientHttp2Stream, constants, type IncomingHttpHeaders } from "node:http2";
import type { DescMethodUnary } from "@bufbuild/protobuf";
import { Code, ConnectError, appendHeaders, type UnaryResponse } from "@connectrpc/connect";
import type { Http2SessionManager } from "@connectrpc/connect-node";
import type { Compression, Serialization } from "@connectrpc/connect/protocol";
import {
  errorFromJsonBytes,
  headerUnaryContentLength,
  trailerDemux,
  validateResponseWithCompression,
} from "@connectrpc/connect/protocol-connect";
import { connectErrorFromH2ResetCode, connectErrorFromNodeReason, nodeErrorCodes } from "./node-h2-errors.js";

/** How the answer of one method is read. */
export interface AnswerReader {
  readonly method: DescMethodUnary;
  readonly readMaxBytes: number;
  readonly acceptCompression: Compression[];
  /** The output message from its bytes: connect-es's serialization of the method, with its limits. */
  readonly output: Serialization<unknown>;
}

/** Tells an exchange when its call is cancelled. */
export interface CancelWatch {
  /**
   * Calls `fail` with the signal's reason when the call's signal aborts, or at once when it has; returns what stops
   * watching.
   */
  watch(fail: (reason: unknown) => void): () => void;
}

/**
 * One Connect unary exchange (binary) on an HTTP/2 stream of `session`: sends `header` and `body`, and reads the
 * answer as connect-es's Connect transport over connect-node's HTTP/2 client does, with the same errors, but with
 * event listeners instead of its async iterators: the headers (a non-200 status is a Connect error whose JSON body
 * is parsed by connect-es's own code), the body up to `readMaxBytes` (and exactly its `content-length`, when given),
 * decompressed if the server compressed it. The stream's errors and resets, and the call's cancellation, fail it
 * as connect-node's "sentinel" does: with the first of them, mapped by {@link connectErrorFromNodeReason} (a
 * cancellation resets the stream with CANCEL, any other failure with INTERNAL_ERROR, so that the server's handler
 * sees its signal abort).
 */
export function exchange(
  session: Http2SessionManager,
  requestMethod: string,
  path: string,
  header: Record<string, string | string[]>,
  body: Uint8Array,
  reader: AnswerReader,
  watch: CancelWatch,
): Promise<UnaryResponse> {
  return new Promise<UnaryResponse>((resolve, reject) => {
    let stream: ClientHttp2Stream | undefined;
    /** Set once the call has failed, or its whole body has arrived: later events of the stream change nothing. */
    let closed = false;
    let closedError: ConnectError | undefined;
    /** While the body is being read (an answer that passed validation, until its end or a failure). */
    let reading = false;
    let ended = false;
    let unwatch = noop;
    const fail = (reason: unknown): void => {
      if (closed) return;
      closed = true;
      unwatch();
      closedError = reason instanceof ConnectError ? reason : connectErrorFromNodeReason(reason);
      if (stream !== undefined) reset(stream, closedError);
      reject(closedError);
    };
    unwatch = watch.watch(fail);
    if (closed) return;
    session.request(requestMethod, path, header, {}).then((s) => {
      // As connect-node: a stream opened for a call that failed meanwhile is reset at once, and never written to.
      s.on("error", (error: unknown) => {
        if (s.writableEnded && nodeErrorCodes(error).includes("ERR_STREAM_WRITE_AFTER_END")) return;
        fail(error);
      });
      if (closed) {
        reset(s, closedError);
        return;
      }
      stream = s;
      s.on("close", () => {
        if (closed) return;
        const error = connectErrorFromH2ResetCode(s.rstCode);
        if (error !== undefined) fail(error);
        // A stream closed without an error code before its answer's end: connect-node's body iterator rejects
        // with Node's premature close. Before any answer, connect-node waits for the deadline or the caller.
        else if (reading && !ended) failRaw(prematureClose());
      });
      s.once("response", (headers) => {
        if (closed) return;
        readAnswer(s, headers);
      });
      s.end(body);
    }, fail);

    /** A failure passed on as it is (not mapped), as connect-node's body iterator passes Node's. */
    function failRaw(reason: unknown): void {
      if (closed) return;
      closed = true;
      unwatch();
      reject(reason);
    }

    /**
     * Reads the answer. connect-node reads it through promises (an async iterator raced against the stream's
     * events), so what it concludes from the headers and the body comes a few promise turns after the event that
     * brought them: a reset or an error in the same turn is what it reports. The same here: conclusions wait for a
     * microtask, and `fail` takes the first failure.
     */
    function readAnswer(s: ClientHttp2Stream, headers: IncomingHttpHeaders & { ":status"?: number }): void {
      const failSoon = (reason: unknown): void => {
        reading = false;
        queueMicrotask(() => fail(reason));
      };
      let answerHeader: Headers;
      let answerTrailer: Headers;
      let compression: Compression | undefined;
      let unaryError: ConnectError | undefined;
      const status = headers[":status"] ?? 0;
      if (status === 200 && headers["content-type"] === "application/proto" && !("content-encoding" in headers)) {
        // The common answer, which connect-es's validation passes: split straight from Node's headers.
        [answerHeader, answerTrailer] = demux(headers);
      } else {
        const all = webHeaders(headers);
        try {
          const valid = validateResponseWithCompression("unary", reader.acceptCompression, true, status, all);
          compression = valid.compression;
          unaryError = valid.isUnaryError ? valid.unaryError : undefined;
        } catch (error) {
          return failSoon(error);
        }
        [answerHeader, answerTrailer] = trailerDemux(all);
      }
      const readMaxBytes = reader.readMaxBytes;
      const hint = lengthHint(headers[headerUnaryContentLength.toLowerCase()]);
      if (hint !== undefined && hint > readMaxBytes) {
        const message = `message size ${hint} is larger than configured readMaxBytes ${readMaxBytes}`;
        return failSoon(new ConnectError(message, Code.ResourceExhausted));
      }
      // connect-es's readAllBytes: into a buffer of the announced size, or chunks up to readMaxBytes.
      reading = true;
      const whole = hint === undefined ? undefined : new Uint8Array(hint);
      const chunks: Buffer[] = [];
      let size = 0;
      s.on("data", (chunk: Buffer) => {
        if (closed || !reading) return;
        session.notifyResponseByteRead(s);
        if (whole !== undefined) {
          if (size + chunk.byteLength > whole.byteLength) {
            return failSoon(broken(whole.byteLength, size + chunk.byteLength));
          }
          whole.set(chunk, size);
        } else {
          if (size + chunk.byteLength > readMaxBytes) {
            const message = `message size is larger than configured readMaxBytes ${readMaxBytes}`;
            return failSoon(new ConnectError(message, Code.ResourceExhausted));
          }
          chunks.push(chunk);
        }
        size += chunk.byteLength;
      });
      s.once("end", () => {
        if (closed || !reading) return;
        ended = true;
        session.notifyResponseByteRead(s);
        queueMicrotask(finish);
      });

      function finish(): void {
        if (closed) return;
        if (whole !== undefined && size < whole.byteLength) return fail(broken(whole.byteLength, size));
        closed = true;
        unwatch();
        const bytes = whole ?? concat(chunks, size);
        if (compression === undefined) answer(bytes);
        else compression.decompress(bytes, readMaxBytes).then(answer, reject);
      }

      function answer(data: Uint8Array): void {
        if (unaryError !== undefined) {
          try {
            reject(errorFromJsonBytes(data, appendHeaders(answerHeader, answerTrailer), unaryError));
          } catch (error) {
            reject(error);
          }
          return;
        }
        let message: unknown;
        try {
          message = reader.output.parse(data);
        } catch (error) {
          return reject(error);
        }
        const method = reader.method;
        resolve({
          stream: false,
          service: method.parent,
          method,
          header: answerHeader,
          message,
          trailer: answerTrailer,
        } as UnaryResponse);
      }
    }
  });
}

function noop(): void {}

/** Resets a stream that is still open, as connect-node does when its call fails. */
function reset(stream: ClientHttp2Stream, error: ConnectError | undefined): void {
  if (stream.closed) return;
  stream.close(error?.code === Code.Canceled ? constants.NGHTTP2_CANCEL : constants.NGHTTP2_INTERNAL_ERROR);
}

function broken(promised: number, received: number): ConnectError {
  return new ConnectError(`protocol error: promised ${promised} bytes, received ${received}`, Code.InvalidArgument);
}

/** connect-es's length hint: a content-length that parses as a safe non-negative integer; otherwise none. */
function lengthHint(value: string | string[] | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = parseInt(typeof value === "string" ? value : value.join(", "), 10);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

function concat(chunks: readonly Buffer[], size: number): Uint8Array {
  const all = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return all;
}

/** Node's headers as connect-node's nodeHeaderToWebHeader gives them (pseudo-headers left out). */
function webHeaders(headers: IncomingHttpHeaders): Headers {
  const out = new Headers();
  for (const [key, value] of Object.entries(headers)) {
    if (key.startsWith(":") || value === undefined) continue;
    if (typeof value === "string") out.append(key, value);
    else if (typeof value === "number") out.append(key, String(value));
    else for (const v of value) out.append(key, v);
  }
  return out;
}

/** {@link webHeaders} split as connect-es's trailerDemux splits them: `trailer-*` fields are the trailer. */
function demux(headers: IncomingHttpHeaders): [Headers, Headers] {
  const header = new Headers();
  const trailer = new Headers();
  for (const key in headers) {
    if (key.startsWith(":")) continue;
    const value = headers[key];
    if (value === undefined) continue;
    const isTrailer = key.startsWith("trailer-");
    const target = isTrailer ? trailer : header;
    const name = isTrailer ? key.substring(8) : key;
    if (typeof value === "string") target.append(name, value);
    else if (typeof value === "number") target.append(name, String(value));
    else for (const v of value) target.append(name, v);
  }
  return [header, trailer];
}

/** The error Node's stream iterator rejects with when a stream closes before its end. */
function prematureClose(): Error {
  return Object.assign(new Error("Premature close"), { code: "ERR_STREAM_PREMATURE_CLOSE" });
}
