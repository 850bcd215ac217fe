import {
  create,
  type DescMethod,
  type DescMethodServerStreaming,
  type DescMethodUnary,
  type DescService,
} from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ConnectRouter,
  type HandlerContext,
  type Interceptor,
  type StreamRequest,
  type StreamResponse,
  type UnaryRequest,
  type UnaryResponse,
  createContextKey,
  createContextValues,
} from "@connectrpc/connect";
import {
  compressionNegotiate,
  createAsyncIterable,
  createMethodSerializationLookup,
  createMethodUrl,
  type MethodSerializationLookup,
  type UniversalHandlerOptions,
  validateUniversalHandlerOptions,
} from "@connectrpc/connect/protocol";
import {
  codeToHttpStatus,
  createEndStreamSerialization,
  endStreamFlag,
  errorToJsonBytes,
  parseTimeout as parseConnectTimeout,
  trailerMux,
} from "@connectrpc/connect/protocol-connect";
import { parseTimeout as parseGrpcTimeout, setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import type { NodeRequest, NodeResponse } from "./node-types.js";
import { nodeHeaders, type WriteResponseOptions, writeUniversalResponse } from "./write-response.js";

/**
 * Unary and server-streaming calls of the common shapes, answered without connect-es's generic handler: Connect
 * unary POSTs of JSON or protobuf and Connect streams of either (HTTP/1.1 or HTTP/2), and gRPC of protobuf (HTTP/2),
 * uncompressed. Per call, connect-es builds a universal request around the Node one, pipes the body and every answer
 * message through a chain of async generators (compiled to ES2017 helpers), links three abort signals, copies the
 * headers three times and ends with an `abort()` that builds a DOMException with its stack; at 64 concurrent
 * single-event appends that plumbing cost more than half of the Event Store's CPU. Here a call is one body read, one
 * parse, the same interceptors (auth, limits, deadlines, metrics, logging, error mapping: they see the same request),
 * the implementation, and one serialization and one write per message (streams through `writeUniversalResponse`,
 * with its flow control and stall limit).
 *
 * What it answers, it answers byte for byte as connect-es would (status, headers, body, trailers: the differential
 * test in rpc-lane.int.spec.ts holds the two equal). Anything else takes the full path: other protocols (gRPC-Web,
 * Connect GET, gRPC over HTTP/1.1), client and bidi streams, other content types, compression, a timeout header
 * Connect would refuse, and, after the body is read, a body it cannot parse (handed over whole, so the full path
 * answers it as it always has).
 */
export interface RpcLane {
  /** Takes the call if it has one of the lane's shapes (then it answers it); false: the caller answers it. */
  serve(req: NodeRequest, res: NodeResponse, path: string, hooks: LaneHooks): boolean;
}

/** What the lane hands back to its caller. */
export interface LaneHooks {
  /** The full path answers this call, whose body has been read whole. */
  fallback(body: Uint8Array): void;
  /** The lane refused the call before any interceptor ran (a body too large or too slow): to log it. */
  refused(error: ConnectError, method: string): void;
  /** The lane answered without reading the whole body: the rest must be drained or the stream reset. */
  unread(): void;
}

/** True in the context values of a call the lane answers (for tests, and for handlers that care). */
export const laneKey = createContextKey(false, { description: "answered by the lane" });

const presetJsons = new WeakMap<object, string | Uint8Array>();
const presetBinaries = new WeakMap<object, Uint8Array>();

/**
 * Gives `message` its JSON text, written by hand where protobuf-es's reflective `toJsonString` is what costs (the
 * entries of the log): the lane sends that text instead of serializing the message. It must be exactly what
 * `toJsonString(schema, message)` writes, or what it would write for the message the full path is given instead (the
 * caller's tests hold it so), as a string or as its UTF-8 bytes. Returns the message.
 */
export function presetJson<T extends object>(message: T, json: string | Uint8Array): T {
  presetJsons.set(message, json);
  return message;
}

/** {@link presetJson}'s counterpart for protobuf: the bytes `toBinary(schema, message)` writes. */
export function presetBinary<T extends object>(message: T, bytes: Uint8Array): T {
  presetBinaries.set(message, bytes);
  return message;
}

type LaneKind = DescMethodUnary | DescMethodServerStreaming;

/** An implementation the lane may call, as registered on the router. */
interface LaneMethod {
  readonly service: DescService;
  readonly method: LaneKind;
  readonly impl: (request: unknown, context: HandlerContext) => unknown;
  readonly serialization: MethodSerializationLookup<LaneKind["input"], LaneKind["output"]>;
}

export interface RpcLaneOptions extends Partial<UniversalHandlerOptions>, WriteResponseOptions {
  /** The whole body must have arrived this long after the call started (as `guardRequestBody` enforces). */
  readonly requestBodyTimeoutMs: number;
  /** Told when a stream's answer could not be written for a reason that is no client's doing. */
  readonly onWriteFailed: (method: string, error: unknown) => void;
}

/**
 * A router that registers on `router` and remembers each unary and server-streaming implementation for the lane. A
 * service registered with options of its own keeps the full path (the lane applies the router's options only).
 */
export function recordingRouter(router: ConnectRouter, opts: RpcLaneOptions): { router: ConnectRouter; lane: RpcLane } {
  const options = validateUniversalHandlerOptions(opts);
  const methods = new Map<string, LaneMethod>();
  const record = (service: DescService, method: LaneKind, impl: unknown, bindTo: object | undefined): void => {
    if (typeof impl !== "function") return;
    const fn = bindTo === undefined ? impl : impl.bind(bindTo);
    methods.set(createMethodUrl("/", method), {
      service,
      method,
      impl: fn as LaneMethod["impl"],
      serialization: createMethodSerializationLookup(method, options.binaryOptions, options.jsonOptions, options),
    });
  };
  const recording: ConnectRouter = {
    get handlers() {
      return router.handlers;
    },
    service(service, implementation, serviceOptions) {
      router.service(service, implementation, serviceOptions);
      if (serviceOptions === undefined) {
        for (const method of service.methods) {
          if (!inLane(method)) continue;
          record(service, method, (implementation as Record<string, unknown>)[method.localName], implementation);
        }
      }
      return this;
    },
    rpc(method, impl, methodOptions) {
      router.rpc(method, impl, methodOptions);
      if (methodOptions === undefined && inLane(method)) record(method.parent, method, impl, undefined);
      return this;
    },
  };
  return { router: recording, lane: rpcLane(methods, options, opts) };
}

type Protocol = "connect" | "grpc";

/** A call's wire format: its protocol, its codec, and whether its messages are enveloped (5-byte prefix each). */
interface Shape {
  readonly protocol: Protocol;
  readonly binary: boolean;
  readonly stream: boolean;
  /** Messages framed in envelopes: gRPC, and Connect streams (Connect unary bodies are the bare message). */
  readonly enveloped: boolean;
}

function inLane(method: DescMethod): method is LaneKind {
  return method.methodKind === "unary" || method.methodKind === "server_streaming";
}

const grpcContentType = "application/grpc+proto";

function rpcLane(
  methods: ReadonlyMap<string, LaneMethod>,
  options: ReturnType<typeof validateUniversalHandlerOptions>,
  opts: RpcLaneOptions,
): RpcLane {
  const interceptors: readonly Interceptor[] = options.interceptors;
  const endStream = createEndStreamSerialization(options.jsonOptions);
  // The calls running, told when the server shuts down. One listener on the shutdown signal for all of them: Node's
  // EventTarget looks through every listener of a signal to add one, so a listener per call cost each call a walk
  // past all the calls open (long-lived streams included).
  const running = new Set<() => void>();
  const shutdown = options.shutdownSignal;
  shutdown?.addEventListener("abort", () => {
    for (const stop of [...running]) stop();
  });
  return {
    serve(req, res, path, hooks) {
      const target = methods.get(path);
      if (target === undefined || req.method !== "POST") return false;
      const shape = shapeOf(req, target.method.methodKind === "server_streaming");
      if (shape === undefined) return false;
      const timeout =
        shape.protocol === "grpc"
          ? parseGrpcTimeout(header(req, "grpc-timeout"), options.maxTimeoutMs)
          : parseConnectTimeout(header(req, "connect-timeout-ms"), options.maxTimeoutMs);
      if (timeout.error !== undefined) return false;
      // The full path refuses a body announced too large before reading it; so does it here.
      const announced = req.headers["content-length"];
      if (announced !== undefined && Number(announced) > options.readMaxBytes + (shape.enveloped ? 5 : 0)) return false;
      const started = performance.now();
      const name = `${target.service.typeName}/${target.method.name}`;
      readBody(req, options.readMaxBytes, shape.enveloped, opts.requestBodyTimeoutMs, (outcome) => {
        if (outcome instanceof ConnectError) {
          hooks.unread();
          if (res.destroyed || res.writableEnded) return;
          // A stream reads its request only when its handler asks for it, after the interceptors (which may refuse
          // it first, and log what it ends with); a unary call is refused before any of them runs.
          if (shape.stream) return stream(target, outcome, req, res, shape, timeout.timeoutMs, started, name);
          hooks.refused(outcome, name);
          return answer(res, shape, outcome, undefined, responseHeader(req, shape), new Headers());
        }
        if (outcome === undefined) return; // the client went away while sending
        const message = parse(target, outcome, shape, announced);
        if (message === undefined) return hooks.fallback(outcome);
        if (shape.stream) stream(target, { message }, req, res, shape, timeout.timeoutMs, started, name);
        else void unary(target, message, req, res, shape, timeout.timeoutMs, started);
      });
      return true;
    },
  };

  /** What every call of the lane has: its context, and the cleanup of its signal's sources. */
  function callContext(
    target: LaneMethod,
    req: NodeRequest,
    res: NodeResponse,
    shape: Shape,
    timeoutMs: number | undefined,
    started: number,
  ): { context: HandlerContext; done: () => void } {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    if (timeoutMs !== undefined) {
      const expire = (): void => controller.abort(new ConnectError("the operation timed out", Code.DeadlineExceeded));
      const left = timeoutMs - (performance.now() - started);
      if (left <= 0) expire();
      else timer = setTimeout(expire, left);
    }
    // Listened to only while the call runs (`done` stops it): a close then means the client went away.
    const onClose = (): void => controller.abort(new ConnectError("the client closed the connection", Code.Canceled));
    // An HTTP/2 stream the client resets closes the request; an HTTP/1.1 request closes once its body is read, so
    // there the response tells (as connect-node listens).
    const closing = "stream" in req ? req : res;
    closing.once("close", onClose);
    const onShutdown = (): void => controller.abort(shutdown?.reason);
    if (shutdown?.aborted === true) onShutdown();
    else running.add(onShutdown);
    // Whole milliseconds, as connect-es gives them: a handler may pass what is left on as its own call's deadline.
    const deadline =
      timeoutMs === undefined ? undefined : Date.now() + Math.floor(timeoutMs - (performance.now() - started));
    const context: HandlerContext = {
      method: target.method,
      service: target.service,
      requestMethod: "POST",
      protocolName: shape.protocol,
      url: urlOf(req),
      signal: controller.signal,
      timeoutMs: () => (deadline === undefined ? undefined : deadline - Date.now()),
      requestHeader: webHeaders(req),
      responseHeader: responseHeader(req, shape),
      responseTrailer: new Headers(),
      values: createContextValues().set(laneKey, true),
    };
    const done = (): void => {
      clearTimeout(timer);
      closing.off("close", onClose);
      running.delete(onShutdown);
    };
    return { context, done };
  }

  /** The interceptors around `impl`, as connect-es applies them. */
  function intercepted<Req, Res>(impl: (r: Req) => Promise<Res>): (r: Req) => Promise<Res> {
    let next = impl;
    for (let i = interceptors.length - 1; i >= 0; i--) next = interceptors[i]!(next as never) as unknown as typeof next;
    return next;
  }

  function requestOf(target: LaneMethod, context: HandlerContext) {
    return {
      method: target.method,
      service: target.service,
      requestMethod: "POST",
      url: context.url,
      signal: context.signal,
      header: context.requestHeader,
      contextValues: context.values,
    };
  }

  /** The context the implementation gets: the call's, with what the interceptors changed in the request. */
  function implContext(context: HandlerContext, r: UnaryRequest | StreamRequest): HandlerContext {
    return { ...context, service: r.service, requestHeader: r.header, signal: r.signal, values: r.contextValues };
  }

  async function unary(
    target: LaneMethod,
    message: unknown,
    req: NodeRequest,
    res: NodeResponse,
    shape: Shape,
    timeoutMs: number | undefined,
    started: number,
  ): Promise<void> {
    const { context, done } = callContext(target, req, res, shape, timeoutMs, started);
    const next = intercepted(async (r: UnaryRequest): Promise<UnaryResponse> => {
      const output = await target.impl(r.message, implContext(context, r));
      return {
        stream: false,
        message: create(target.method.output, output as never),
        method: target.method,
        service: target.service,
        header: context.responseHeader,
        trailer: context.responseTrailer,
      } as UnaryResponse;
    });
    let body: Uint8Array | undefined;
    let error: ConnectError | undefined;
    let header = context.responseHeader;
    let trailer = context.responseTrailer;
    try {
      const response = await next({ stream: false, message, ...requestOf(target, context) } as UnaryRequest);
      header = response.header;
      trailer = response.trailer;
      body = serializer(target, shape.binary)(response.message);
    } catch (e) {
      error = connectErrorOf(e);
    } finally {
      done();
    }
    if (res.destroyed || res.writableEnded) return;
    answer(res, shape, error, body, header, trailer);
  }

  /**
   * A server stream: each message is written once the transport took the one before (writeUniversalResponse), the
   * headers once the first message is ready; the end is gRPC's trailers or Connect's end-stream message. `input`: the
   * request message, or why it could not be read (thrown where the handler reads it).
   */
  function stream(
    target: LaneMethod,
    input: { message: unknown } | ConnectError,
    req: NodeRequest,
    res: NodeResponse,
    shape: Shape,
    timeoutMs: number | undefined,
    started: number,
    name: string,
  ): void {
    const { context, done } = callContext(target, req, res, shape, timeoutMs, started);
    const header = context.responseHeader;
    const trailer = context.responseTrailer;
    header.set("content-type", shape.protocol === "grpc" ? grpcContentType : connectStreamType(shape.binary));
    const framed = framer(target, shape.binary);
    const output = target.method.output;
    const next = intercepted(async (r: StreamRequest): Promise<StreamResponse> => {
      const input = await single(r.message);
      const messages = target.impl(input, implContext(context, r)) as AsyncIterable<unknown>;
      return {
        stream: true,
        message: messages,
        method: target.method,
        service: target.service,
        header: context.responseHeader,
        trailer: context.responseTrailer,
      } as StreamResponse;
    });
    async function* body(): AsyncGenerator<Uint8Array> {
      let error: ConnectError | undefined;
      try {
        const response = await next({
          stream: true,
          message: input instanceof ConnectError ? failing(input) : createAsyncIterable([input.message]),
          ...requestOf(target, context),
        } as StreamRequest);
        copyHeaders(response.header, header);
        for await (const m of response.message) yield framed(create(output, m as never));
        copyHeaders(response.trailer, trailer);
      } catch (e) {
        error = connectErrorOf(e);
      } finally {
        done();
      }
      if (shape.protocol === "grpc") {
        if (error === undefined) trailer.set("grpc-status", "0");
        else setTrailerStatus(trailer, error);
        return;
      }
      yield frame(endStreamFlag, endStream.serialize({ metadata: trailer, error }));
    }
    const answer = { status: 200, header, body: body(), trailer: shape.protocol === "grpc" ? trailer : undefined };
    writeUniversalResponse(answer, res, opts).catch((reason: unknown) => {
      if (!res.writableEnded) res.destroy(new Error("the answer could not be written"));
      if (!(reason instanceof ConnectError)) opts.onWriteFailed(name, reason);
    });
  }

  /**
   * The headers an answer starts with. A stream names the response compression it negotiated from the accepted
   * encodings, as connect-es does, even though answers here go uncompressed (each message's flag says so).
   */
  function responseHeader(req: NodeRequest, shape: Shape): Headers {
    const out = new Headers();
    if (shape.protocol === "connect" && !shape.stream) return out;
    const [acceptName, encodingName] =
      shape.protocol === "grpc"
        ? ["grpc-accept-encoding", "grpc-encoding"]
        : ["connect-accept-encoding", "connect-content-encoding"];
    const accepted = header(req, acceptName);
    if (accepted === null) return out;
    const negotiated = compressionNegotiate(options.acceptCompression, null, accepted, acceptName);
    if (negotiated.response !== null) out.set(encodingName, negotiated.response.name);
    return out;
  }

  /** Writes a unary answer as connect-es's Connect unary and gRPC handlers do. */
  function answer(
    res: NodeResponse,
    shape: Shape,
    error: ConnectError | undefined,
    body: Uint8Array | undefined,
    header: Headers,
    trailer: Headers,
  ): void {
    if (shape.protocol === "connect") {
      let status = 200;
      let data: Uint8Array;
      if (error === undefined) {
        header.set("content-type", shape.binary ? "application/proto" : "application/json");
        data = body!;
      } else {
        status = codeToHttpStatus(error.code);
        header.set("content-type", "application/json");
        error.metadata.forEach((value, key) => header.set(key, value));
        data = errorToJsonBytes(error, options.jsonOptions);
      }
      const all = trailerMux(header, trailer);
      all.set("content-length", String(data.byteLength));
      res.writeHead(status, nodeHeaders(all));
      res.end(data);
      return;
    }
    header.set("content-type", grpcContentType);
    const out = new Headers(trailer);
    if (error === undefined) out.set("grpc-status", "0");
    else setTrailerStatus(out, error);
    res.writeHead(200, nodeHeaders(header));
    res.addTrailers(nodeHeaders(out));
    if (body === undefined) res.end();
    else res.end(frame(0, body));
  }
}

/** The JSON text preset on `message` by {@link presetJson}, if any (as it was given: a string, or its bytes). */
export function presetJsonOf(message: object): string | Uint8Array | undefined {
  return presetJsons.get(message);
}

/** The bytes preset on `message` by {@link presetBinary}, if any. */
export function presetBinaryOf(message: object): Uint8Array | undefined {
  return presetBinaries.get(message);
}

/** How a message of `target`'s output is written: protobuf-es's serializer, or what was preset for it. */
function serializer(target: LaneMethod, binary: boolean): (message: object) => Uint8Array {
  const serialization = target.serialization.getO(binary);
  if (binary) return (message) => presetBinaryOf(message) ?? serialization.serialize(message as never);
  return (message) => {
    const json = presetJsonOf(message);
    if (json === undefined) return serialization.serialize(message as never);
    return typeof json === "string" ? Buffer.from(json) : json;
  };
}

const framedJsons = new WeakMap<object, Uint8Array>();
const framedBinaries = new WeakMap<object, Uint8Array>();

/**
 * How a stream's message is enveloped for the wire. A preset message is framed once and its envelope kept with it:
 * its bytes never change, and a handler may send one message to many streams (LogsPoll's live entries).
 */
function framer(target: LaneMethod, binary: boolean): (message: object) => Uint8Array {
  const serialize = serializer(target, binary);
  const framed = binary ? framedBinaries : framedJsons;
  return (message) => {
    const preset = binary ? presetBinaryOf(message) : presetJsonOf(message);
    if (preset === undefined) return frame(0, serialize(message));
    let bytes = framed.get(message);
    if (bytes === undefined) {
      bytes = frame(0, serialize(message));
      framed.set(message, bytes);
    }
    return bytes;
  };
}

function connectStreamType(binary: boolean): string {
  return binary ? "application/connect+proto" : "application/connect+json";
}

function connectErrorOf(e: unknown): ConnectError {
  return e instanceof ConnectError ? e : new ConnectError("internal error", Code.Internal, undefined, undefined, e);
}

/** `to` becomes a copy of `from` (connect-es copies what the interceptors answered into the call's headers). */
function copyHeaders(from: Headers, to: Headers): void {
  if (from === to) return;
  const keys: string[] = [];
  to.forEach((_, key) => keys.push(key));
  for (const key of keys) to.delete(key);
  from.forEach((value, key) => to.set(key, value));
}

/** The one request message of a server stream, as connect-es reads it (an interceptor may have replaced it). */
async function single(messages: AsyncIterable<unknown>): Promise<unknown> {
  const it = messages[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done === true) {
    throw new ConnectError("protocol error: missing input message for server-streaming method", Code.Unimplemented);
  }
  const second = await it.next();
  if (second.done !== true) {
    throw new ConnectError(
      "protocol error: received extra input message for server-streaming method",
      Code.Unimplemented,
    );
  }
  return first.value;
}

/** An iterable whose first step fails with `error`. */
function failing(error: ConnectError): AsyncIterable<never> {
  return {
    [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(error) }),
  };
}

/** An envelope: flags, the 4-byte big-endian length, the data. */
function frame(flags: number, data: Uint8Array): Uint8Array {
  const out = Buffer.allocUnsafe(5 + data.byteLength);
  out[0] = flags;
  out.writeUInt32BE(data.byteLength, 1);
  out.set(data, 5);
  return out;
}

/** The lane's shape of this request, from its headers alone; undefined: the full path's. */
function shapeOf(req: NodeRequest, serverStream: boolean): Shape | undefined {
  const h = req.headers;
  const type = h["content-type"];
  if (type === "application/grpc" || type === "application/grpc+proto") {
    // gRPC needs trailers: over HTTP/1.1 it takes the full path.
    if (!("stream" in req) || !identity(h["grpc-encoding"])) return undefined;
    return { protocol: "grpc", binary: true, stream: serverStream, enveloped: true };
  }
  if (serverStream) {
    if (type !== "application/connect+proto" && type !== "application/connect+json") return undefined;
    if (!identity(h["connect-content-encoding"])) return undefined;
    return { protocol: "connect", binary: type === "application/connect+proto", stream: true, enveloped: true };
  }
  if (type !== "application/proto" && type !== "application/json") return undefined;
  if (!identity(h["content-encoding"])) return undefined;
  return { protocol: "connect", binary: type === "application/proto", stream: false, enveloped: false };
}

function identity(encoding: string | string[] | undefined): boolean {
  return encoding === undefined || encoding === "identity";
}

function header(req: NodeRequest, name: string): string | null {
  const value = req.headers[name];
  return typeof value === "string" ? value : null;
}

/**
 * Reads the whole body: `done` gets the bytes, a ConnectError (a message too large, or a body later than
 * `timeoutMs`: the answers of Connect's readers and of `guardRequestBody`), or undefined when the client went away
 * first. An enveloped body is refused as soon as its prefix announces too large a message.
 */
function readBody(
  req: NodeRequest,
  readMaxBytes: number,
  enveloped: boolean,
  timeoutMs: number,
  done: (outcome: Uint8Array | ConnectError | undefined) => void,
): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let settled = false;
  const settle = (outcome: Uint8Array | ConnectError | undefined): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    req.off("data", onData);
    req.off("end", onEnd);
    req.off("close", onGone);
    req.off("error", onGone);
    // What is left unread is drained or reset after the answer (see rpc-adapter.ts).
    if (outcome instanceof ConnectError) req.pause();
    done(outcome);
  };
  const maxBytes = readMaxBytes + (enveloped ? 5 : 0);
  let announced = !enveloped;
  const onData = (chunk: Buffer): void => {
    size += chunk.length;
    chunks.push(chunk);
    if (!announced && size >= 5) {
      announced = true;
      const length = (chunks.length === 1 ? chunk : Buffer.concat(chunks)).readUInt32BE(1);
      if (length > readMaxBytes) {
        const message = `message size ${length} is larger than configured readMaxBytes ${readMaxBytes}`;
        return settle(new ConnectError(message, Code.ResourceExhausted));
      }
    }
    if (size > maxBytes) {
      const message = `message size is larger than configured readMaxBytes ${readMaxBytes}`;
      settle(new ConnectError(message, Code.ResourceExhausted));
    }
  };
  const onEnd = (): void => settle(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
  const onGone = (): void => settle(undefined);
  const timer = setTimeout(
    () => settle(new ConnectError(`the request body did not arrive within ${timeoutMs} ms`, Code.DeadlineExceeded)),
    timeoutMs,
  );
  req.on("data", onData);
  req.once("end", onEnd);
  req.once("close", onGone);
  req.once("error", onGone);
}

/** The request message, or undefined for anything the full path should answer (framing, a parse error). */
function parse(target: LaneMethod, body: Uint8Array, shape: Shape, announced: string | undefined): unknown {
  if (announced !== undefined && Number(announced) !== body.length) return undefined;
  let data = body;
  if (shape.enveloped) {
    if (body.length < 5 || body[0] !== 0) return undefined;
    const length = Buffer.from(body.buffer, body.byteOffset, body.byteLength).readUInt32BE(1);
    if (body.length !== 5 + length) return undefined;
    data = body.subarray(5);
  }
  try {
    return target.serialization.getI(shape.binary).parse(data);
  } catch {
    return undefined;
  }
}

function webHeaders(req: NodeRequest): Headers {
  const out = new Headers();
  for (const [key, value] of Object.entries(req.headers)) {
    if (key.startsWith(":") || value === undefined) continue;
    if (typeof value === "string") out.append(key, value);
    else for (const v of value) out.append(key, v);
  }
  return out;
}

function urlOf(req: NodeRequest): string {
  const authority = "authority" in req ? req.authority : req.headers.host;
  return `http://${authority ?? "localhost"}${req.url ?? ""}`;
}
