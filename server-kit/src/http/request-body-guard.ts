import { promisify } from "node:util";
import * as zlib from "node:zlib";
import { type DescMessage, fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { MessageClock } from "./request-clock.js";

/** How a request body carries its message, from the content type (see {@link requestFraming}). */
export interface RequestFraming {
  /** Enveloped (gRPC, gRPC-Web, Connect streaming: 5-byte prefix per message) or the whole body (Connect unary). */
  enveloped: boolean;
  /** Protobuf binary (checked here) or JSON (Connect's own parser already answers `invalid_argument`). */
  binary: boolean;
  /** The header naming the compression of the messages. */
  encodingHeader: string;
}

const enveloped = /^application\/(grpc|grpc-web|connect)(?:\+(json|proto))?(?:; ?charset=utf-?8)?$/iu;
const unaryProto = /^application\/proto$/iu;

/**
 * The framing of a request of this content type, or undefined for what this guard leaves to Connect alone (JSON
 * unary bodies, gRPC-Web text, content types Connect refuses with 415).
 */
export function requestFraming(contentType: string | null): RequestFraming | undefined {
  const type = (contentType ?? "").trim();
  if (unaryProto.test(type)) return { enveloped: false, binary: true, encodingHeader: "content-encoding" };
  const match = enveloped.exec(type);
  if (match === null) return undefined;
  const protocol = match[1]!.toLowerCase();
  // "application/connect" alone is no Connect content type; Connect refuses it itself.
  if (protocol === "connect" && match[2] === undefined) return undefined;
  return {
    enveloped: true,
    binary: match[2]?.toLowerCase() !== "json",
    encodingHeader: protocol === "connect" ? "connect-content-encoding" : "grpc-encoding",
  };
}

/** What {@link guardRequestBody} checks a body against. */
export interface BodyGuardOptions {
  /** The RPC's request type. */
  input: DescMessage;
  /** Undefined: the body is only timed, not checked. */
  framing: RequestFraming | undefined;
  /** The request's compression ("" or "identity" = none). */
  encoding: string;
  /** Largest message, as Connect enforces it. */
  readMaxBytes: number;
  /**
   * The whole body must have arrived this many ms after the call started; past it → `deadline_exceeded`. With
   * `perMessage`, each message instead.
   */
  timeoutMs: number;
  /**
   * The RPC takes a stream of requests (client or bidi streaming), whose body lasts as long as the call: then each
   * enveloped message must have arrived within `timeoutMs` of the server waiting for it (of the previous message's
   * end, when the next one had already begun). An import over one stream may last hours; a client that starts a
   * message and stalls, or leaves the stream idle, is still cut. Its messages' protobuf is left to Connect's parser
   * (whose failures `requestFieldsInterceptor` answers `invalid_argument`); their envelopes are checked here.
   */
  perMessage?: boolean;
  /**
   * With `perMessage`: the clock of the next message, which the handler pauses while the server has the turn (made
   * with `timeoutMs`; see request-clock.ts). Without it the clock always runs while the server waits.
   */
  clock?: MessageClock;
  /** Told of each refusal this guard makes (before it is thrown), e.g. to log it or close the connection. */
  onRefuse?: (error: ConnectError) => void;
  /** Told when Connect stops reading before the body ended (a refusal, a size limit): the rest is left unread. */
  onUnread?: () => void;
}

const compressedFlag = 0x01;
const decompress: Record<string, (data: Uint8Array, opts: zlib.ZlibOptions) => Promise<Buffer>> = {
  gzip: promisify(zlib.gunzip),
  br: promisify(zlib.brotliDecompress) as (data: Uint8Array, opts: zlib.ZlibOptions) => Promise<Buffer>,
};

/**
 * Passes a request body through to Connect, refusing with a precise code what Connect would answer `internal`: a
 * message that is not valid protobuf for `input` (garbage, wrong wire types, truncated fields, invalid UTF-8, JSON
 * sent as `application/proto`) and envelopes with flags a request may not carry (0x80 is a trailer, only responses
 * have those; 0x01 without a compression named) are `invalid_argument`, as grpc-go and connect-go answer. A body that
 * has not arrived after `timeoutMs` is `deadline_exceeded`. Each message is checked before Connect has seen all of its
 * bytes, so Connect never parses one this guard refuses; what Connect already answers well (sizes, bad gzip, JSON)
 * is left to it.
 */
export async function* guardRequestBody(
  body: AsyncIterable<Uint8Array>,
  opts: BodyGuardOptions,
): AsyncGenerator<Uint8Array> {
  const framing = opts.framing;
  const refuse = (message: string, code: Code): ConnectError => {
    const error = new ConnectError(message, code);
    opts.onRefuse?.(error);
    return error;
  };
  const envelopes = new EnvelopeReader(opts.readMaxBytes);
  const perMessage = opts.perMessage === true && framing?.enveloped === true;
  const chunks = withDeadline(
    body,
    opts.timeoutMs,
    () =>
      refuse(
        perMessage
          ? `a request message did not arrive within ${opts.timeoutMs} ms`
          : `the request body did not arrive within ${opts.timeoutMs} ms`,
        Code.DeadlineExceeded,
      ),
    {
      onUnread: opts.onUnread,
      restart: perMessage ? () => envelopes.betweenMessages() : undefined,
      clock: perMessage ? opts.clock : undefined,
    },
  );
  if (framing === undefined) return yield* chunks;
  const compressed = opts.encoding !== "" && opts.encoding !== "identity";
  const check = async (flags: number, data: Uint8Array): Promise<void> => {
    if ((flags & ~compressedFlag) !== 0) {
      const hex = flags.toString(16).padStart(2, "0");
      throw refuse(
        `protocol error: a request message has flags 0x${hex}: only 0x01 (compressed) is allowed`,
        Code.InvalidArgument,
      );
    }
    if ((flags & compressedFlag) !== 0 && !compressed) {
      throw refuse(
        `protocol error: a request message is compressed (flag 0x01) but the request names no ${framing.encodingHeader}`,
        Code.InvalidArgument,
      );
    }
    // A stream of requests is parsed once, by Connect; requestFieldsInterceptor makes its parse failures
    // `invalid_argument` (parsing its messages here too cost a tenth of an import's server CPU).
    if (!framing.binary || perMessage) return;
    let bytes = data;
    if ((flags & compressedFlag) !== 0 || (!framing.enveloped && compressed)) {
      const inflate = decompress[opts.encoding];
      // An unknown encoding or a bad compressed body: Connect answers those precisely itself.
      if (inflate === undefined) return;
      try {
        bytes = await inflate(data, { maxOutputLength: opts.readMaxBytes });
      } catch {
        return;
      }
    }
    try {
      fromBinary(opts.input, bytes);
    } catch (error) {
      throw refuse(
        `the request is not a valid ${opts.input.typeName}: ${(error as Error).message}`,
        Code.InvalidArgument,
      );
    }
  };
  if (!framing.enveloped) {
    // One message, the whole body. Past the size limit, stop checking: Connect answers `resource_exhausted`.
    const held: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of chunks) {
      if (size > opts.readMaxBytes) {
        yield chunk;
        continue;
      }
      held.push(chunk);
      size += chunk.byteLength;
      if (size > opts.readMaxBytes) yield* held.splice(0);
    }
    if (size <= opts.readMaxBytes) {
      const whole = Buffer.concat(held);
      await check(0, whole);
      yield whole;
    }
    return;
  }
  for await (const chunk of chunks) {
    // Check every envelope this chunk completes before handing the chunk on.
    for (const { flags, data } of envelopes.push(chunk)) await check(flags, data);
    yield chunk;
  }
}

/**
 * Splits bytes into envelopes (flags, 4-byte big-endian length, message); stops at the size limit (Connect's). Chunks
 * are joined once per envelope, not once per chunk: a large message arrives in hundreds of chunks.
 */
class EnvelopeReader {
  private chunks: Buffer[] = [];
  private size = 0;
  private oversized = false;
  private completed = 0;
  private completedWhenAsked = 0;
  constructor(private readonly readMaxBytes: number) {}

  /**
   * Whether a new message is awaited: none is partly here, or one was completed since the last time this was asked
   * (the next one's beginning came in the same chunk).
   */
  betweenMessages(): boolean {
    const fresh = this.completed !== this.completedWhenAsked || this.size === 0 || this.oversized;
    this.completedWhenAsked = this.completed;
    return fresh;
  }

  push(chunk: Uint8Array): Array<{ flags: number; data: Uint8Array }> {
    if (this.oversized) return [];
    this.chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    this.size += chunk.byteLength;
    const complete = [];
    while (this.size >= 5) {
      if (this.chunks[0]!.length < 5) this.chunks = [Buffer.concat(this.chunks)];
      const head = this.chunks[0]!;
      const length = head.readUInt32BE(1);
      if (length > this.readMaxBytes) {
        // Connect refuses it with `resource_exhausted` from the prefix alone.
        this.oversized = true;
        this.chunks = [];
        break;
      }
      if (this.size < 5 + length) break;
      const all = this.chunks.length === 1 ? head : Buffer.concat(this.chunks);
      complete.push({ flags: all[0]!, data: all.subarray(5, 5 + length) });
      this.completed++;
      const rest = all.subarray(5 + length);
      this.chunks = rest.length === 0 ? [] : [rest];
      this.size = rest.length;
    }
    return complete;
  }
}

/**
 * The chunks of `body`, or `deadline_exceeded` once `timeoutMs` have passed before it ended. `restart`, asked before
 * each wait, gives the wait `timeoutMs` of its own when it says so (between two messages of a stream); `clock`, when
 * given, is the one the handler pauses while the server has the turn (see request-clock.ts).
 */
async function* withDeadline(
  body: AsyncIterable<Uint8Array>,
  timeoutMs: number,
  expire: () => ConnectError,
  opts: { onUnread?: () => void; restart?: (() => boolean) | undefined; clock?: MessageClock | undefined } = {},
): AsyncGenerator<Uint8Array> {
  const it = body[Symbol.asyncIterator]();
  const clock = opts.clock ?? new MessageClock(timeoutMs);
  let ended = false;
  try {
    for (;;) {
      if (opts.restart?.() === true) clock.restart();
      const next = await clock.race(it.next(), expire);
      if (next.done === true) {
        ended = true;
        return;
      }
      yield next.value;
    }
  } finally {
    clock.disarm();
    // A body left unread is not destroyed here: destroying an HTTP/1.1 request resets the connection, and a client
    // still sending would lose the answer. The server drains or resets it once the answer is out (see rpc-adapter.ts).
    if (!ended) opts.onUnread?.();
  }
}
