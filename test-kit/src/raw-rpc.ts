import * as http from "node:http";
import * as http2 from "node:http2";
import { Code } from "@connectrpc/connect";
import { codeName } from "@eskit/server-kit/rpc-outcome.js";

/**
 * A test kit for calling an RPC with bytes no well-behaved client would send (malformed messages, bad frames, odd
 * flags), over each wire format a service speaks, and reading back the code it answered. Typed clients cannot send
 * such requests, which is why tests of a server's edge need this.
 */

/**
 * The wire formats: Connect unary JSON or binary and Connect streaming, gRPC-Web (HTTP/1.1, or HTTP/2 when asked),
 * gRPC (HTTP/2).
 */
export type RawProtocol = "connect-json" | "connect-proto" | "grpc-web" | "grpc";

/**
 * What came back: the HTTP status and the RPC's code ("ok" or Connect's snake_case name) with its message, and how
 * many answer messages came before it (a stream of requests may be answered in part, then end with an error).
 */
export interface RawAnswer {
  httpStatus: number;
  code: string;
  message: string;
  messages: number;
}

/** Options of {@link rawCall}. */
export interface RawCallOptions {
  protocol: RawProtocol;
  /** The exact request body; build framed ones with {@link envelope}. */
  body: Uint8Array;
  /** Whether the method streams (Connect frames its request and answer then). */
  stream?: boolean;
  /** Connect and gRPC-Web over HTTP/2 (prior knowledge) instead of HTTP/1.1, as a bidi stream needs; gRPC always is. */
  http2?: boolean;
  /** Extra request headers (they replace the defaults of the same name). */
  headers?: Record<string, string>;
  /** Over HTTP/2: the session to use (else one is opened and closed for this call). */
  session?: http2.ClientHttp2Session;
  /** Give up (and reject) after this long; default 10 s. */
  timeoutMs?: number;
}

/** Frames `data` as one enveloped message: a flags byte, a 4-byte big-endian length, the bytes. */
export function envelope(flags: number, data: Uint8Array, length = data.byteLength): Buffer {
  const out = Buffer.alloc(5 + data.byteLength);
  out[0] = flags;
  out.writeUInt32BE(length, 1);
  out.set(data, 5);
  return out;
}

/** Sends one request to `baseUrl` + `/service/Method` and reads the code of the answer. */
export async function rawCall(baseUrl: string, path: string, opts: RawCallOptions): Promise<RawAnswer> {
  if (opts.protocol === "grpc") return grpcCall(baseUrl, path, opts);
  const protocol = opts.protocol;
  const contentType = contentTypes[protocol][opts.stream === true ? 1 : 0];
  const response =
    opts.http2 === true
      ? await http2Request(baseUrl, path, contentType, opts)
      : await http1Request(baseUrl + path, contentType, opts);
  return "reset" in response ? response.reset : answerOf(protocol, opts.stream === true, response);
}

const contentTypes: Record<Exclude<RawProtocol, "grpc">, [unary: string, stream: string]> = {
  "connect-json": ["application/json", "application/connect+json"],
  "connect-proto": ["application/proto", "application/connect+proto"],
  "grpc-web": ["application/grpc-web+proto", "application/grpc-web+proto"],
};

/** A whole answer, however it came. */
interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function answerOf(protocol: Exclude<RawProtocol, "grpc">, stream: boolean, response: RawResponse): RawAnswer {
  const body = response.body;
  const httpStatus = response.status;
  const headers = response.headers;
  if (protocol === "grpc-web") {
    const messages = envelopeCount(body, 0x80);
    const header = headers["grpc-status"];
    if (header !== undefined) {
      return grpcAnswer(httpStatus, String(header), headerText(headers["grpc-message"]), messages);
    }
    const trailer = lastEnvelope(body, 0x80);
    if (trailer === undefined) return { httpStatus, code: "no-trailer", message: body.toString("latin1"), messages };
    const fields = new Map(
      trailer
        .toString("latin1")
        .split("\r\n")
        .map((line) => {
          const colon = line.indexOf(":");
          return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()] as const;
        }),
    );
    return grpcAnswer(httpStatus, fields.get("grpc-status") ?? "", fields.get("grpc-message") ?? null, messages);
  }
  if (stream && httpStatus === 200) {
    const end = lastEnvelope(body, 0x02);
    const parsed = JSON.parse(end?.toString("utf8") ?? "{}") as { error?: { code?: string; message?: string } };
    const messages = envelopeCount(body, 0x02);
    return { httpStatus, code: parsed.error?.code ?? "ok", message: parsed.error?.message ?? "", messages };
  }
  if (httpStatus === 200) return { httpStatus, code: "ok", message: "", messages: 1 };
  try {
    const parsed = JSON.parse(body.toString("utf8")) as { code?: string; message?: string };
    return { httpStatus, code: parsed.code ?? `http-${httpStatus}`, message: parsed.message ?? "", messages: 0 };
  } catch {
    return { httpStatus, code: `http-${httpStatus}`, message: body.toString("latin1").slice(0, 200), messages: 0 };
  }
}

/**
 * One HTTP/1.1 request on a connection of its own (no keep-alive), so that one hostile case cannot leave a pooled
 * connection in a state that fails the next; the answer is read to its end.
 */
function http1Request(url: string, contentType: string, opts: RawCallOptions): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: "POST",
      agent: false,
      headers: { "content-type": contentType, "content-length": String(opts.body.byteLength), ...opts.headers },
      timeout: opts.timeoutMs ?? 10_000,
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${opts.timeoutMs ?? 10_000} ms`)));
    req.on("error", reject);
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("error", reject);
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.end(opts.body);
  });
}

async function grpcCall(baseUrl: string, path: string, opts: RawCallOptions): Promise<RawAnswer> {
  const session = opts.session ?? http2.connect(baseUrl);
  try {
    return await new Promise<RawAnswer>((resolve, reject) => {
      const stream = session.request({
        ":method": "POST",
        ":path": path,
        "content-type": "application/grpc+proto",
        te: "trailers",
        ...opts.headers,
      });
      const timer = setTimeout(() => {
        stream.close(http2.constants.NGHTTP2_CANCEL);
        reject(new Error(`no answer within ${opts.timeoutMs ?? 10_000} ms`));
      }, opts.timeoutMs ?? 10_000);
      let httpStatus = 0;
      let answer: ((messages: number) => RawAnswer) | undefined;
      const chunks: Buffer[] = [];
      stream.on("response", (headers) => {
        httpStatus = Number(headers[":status"]);
        const status = headers["grpc-status"];
        if (status !== undefined) {
          answer = (n) => grpcAnswer(httpStatus, String(status), headerText(headers["grpc-message"]), n);
        }
      });
      stream.on("trailers", (trailers) => {
        answer = (n) =>
          grpcAnswer(httpStatus, String(trailers["grpc-status"] ?? ""), headerText(trailers["grpc-message"]), n);
      });
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      // A reset after the whole answer (a server stopping an unread request body) is not a failure.
      stream.on("error", () => {});
      stream.on("close", () => {
        clearTimeout(timer);
        const messages = envelopeCount(Buffer.concat(chunks), 0x80);
        resolve(answer?.(messages) ?? { httpStatus, code: `reset-${stream.rstCode}`, message: "", messages });
      });
      stream.end(opts.body);
    });
  } finally {
    if (opts.session === undefined) session.close();
  }
}

function headerText(value: string | string[] | undefined): string | null {
  return value === undefined ? null : String(value);
}

function grpcAnswer(httpStatus: number, status: string, message: string | null, messages: number): RawAnswer {
  const number = Number(status);
  const valid = status !== "" && Number.isInteger(number) && number >= 0 && number <= 16;
  return {
    httpStatus,
    code: valid ? codeName(number === 0 ? undefined : (number as Code)) : `grpc-status-${status}`,
    message: message === null ? "" : decodeURIComponent(message),
    messages,
  };
}

/**
 * One request over HTTP/2 (a session of its own unless `opts.session`), its whole answer with the trailers among the
 * headers; a stream reset before any answer is the code `reset-<code>`.
 */
async function http2Request(
  baseUrl: string,
  path: string,
  contentType: string,
  opts: RawCallOptions,
): Promise<RawResponse | { reset: RawAnswer }> {
  // Room for a large refused request: Node's client keeps its unsent rest until the session closes, and with the
  // default 10 MB resets its own stream (ENHANCE_YOUR_CALM) instead of reading the answer.
  const session = opts.session ?? http2.connect(baseUrl, { maxSessionMemory: 512 });
  session.on("error", () => {});
  try {
    return await new Promise((resolve, reject) => {
      const stream = session.request({
        ":method": "POST",
        ":path": path,
        "content-type": contentType,
        ...opts.headers,
      });
      const timer = setTimeout(() => {
        stream.close(http2.constants.NGHTTP2_CANCEL);
        reject(new Error(`no answer within ${opts.timeoutMs ?? 10_000} ms`));
      }, opts.timeoutMs ?? 10_000);
      let status = 0;
      const headers: http.IncomingHttpHeaders = {};
      const chunks: Buffer[] = [];
      stream.on("response", (received) => {
        status = Number(received[":status"]);
        Object.assign(headers, received);
      });
      stream.on("trailers", (trailers) => Object.assign(headers, trailers));
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("error", () => {});
      stream.on("close", () => {
        clearTimeout(timer);
        if (status === 0) {
          resolve({ reset: { httpStatus: 0, code: `reset-${stream.rstCode}`, message: "", messages: 0 } });
        } else {
          resolve({ status, headers, body: Buffer.concat(chunks) });
        }
      });
      stream.end(opts.body);
    });
  } finally {
    if (opts.session === undefined) session.close();
  }
}

/** How many envelopes of a body of envelopes do not carry `endFlag` (the answer's messages). */
function envelopeCount(body: Buffer, endFlag: number): number {
  let count = 0;
  for (let at = 0; at + 5 <= body.length;) {
    if ((body[at]! & endFlag) === 0) count++;
    at += 5 + body.readUInt32BE(at + 1);
  }
  return count;
}

/** The data of the last envelope whose flags include `flag`, walking a body of envelopes. */
function lastEnvelope(body: Buffer, flag: number): Buffer | undefined {
  let found: Buffer | undefined;
  for (let at = 0; at + 5 <= body.length;) {
    const length = body.readUInt32BE(at + 1);
    if ((body[at]! & flag) !== 0) found = body.subarray(at + 5, at + 5 + length);
    at += 5 + length;
  }
  return found;
}
