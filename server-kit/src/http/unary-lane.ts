import { create, type DescMethod, type DescMethodUnary, type DescService } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ConnectRouter,
  type HandlerContext,
  type Interceptor,
  type UnaryRequest,
  type UnaryResponse,
  createContextKey,
  createContextValues,
} from "@connectrpc/connect";
import {
  compressionNegotiate,
  createMethodSerializationLookup,
  createMethodUrl,
  type MethodSerializationLookup,
  type UniversalHandlerOptions,
  validateUniversalHandlerOptions,
} from "@connectrpc/connect/protocol";
import {
  codeToHttpStatus,
  errorToJsonBytes,
  parseTimeout as parseConnectTimeout,
  trailerMux,
} from "@connectrpc/connect/protocol-connect";
import { parseTimeout as parseGrpcTimeout, setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import type { NodeRequest, NodeResponse } from "./node-types.js";
import { nodeHeaders } from "./write-response.js";

/**
 * The unary calls of the common shapes, answered without connect-es's generic handler: a Connect POST of JSON or
 * protobuf (HTTP/1.1 or HTTP/2) and a gRPC call of protobuf (HTTP/2), uncompressed. Per call, connect-es builds a
 * universal request around the Node one, pipes the body through async generators (compiled to ES2017 helpers), links
 * three abort signals, copies the headers three times and ends with an `abort()` that builds a DOMException with its
 * stack; at 64 concurrent single-event appends that plumbing was a quarter of the Event Store's CPU. Here a call is
 * one body read, one parse, the same interceptors (auth, limits, deadlines, metrics, logging, error mapping: they see
 * the same request), the implementation, one serialization and one write.
 *
 * What it answers, it answers byte for byte as connect-es would (status, headers, body, trailers: the differential
 * test in unary-lane.int.spec.ts holds the two equal). Anything else takes the full path: other protocols (gRPC-Web,
 * Connect GET, gRPC over HTTP/1.1), other content types, compression, a timeout header Connect would refuse, and,
 * after the body is read, a body it cannot parse (handed over whole, so the full path answers it as it always has).
 */
export interface UnaryLane {
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

/** True in the context values of a call the lane answers (for tests, and for interceptors that care). */
export const unaryLaneKey = createContextKey(false, { description: "answered by the unary lane" });

/** A unary implementation the lane may call, as registered on the router. */
interface LaneMethod {
  readonly service: DescService;
  readonly method: DescMethodUnary;
  readonly impl: (request: unknown, context: HandlerContext) => unknown;
  readonly serialization: MethodSerializationLookup<DescMethodUnary["input"], DescMethodUnary["output"]>;
}

export interface UnaryLaneOptions extends Partial<UniversalHandlerOptions> {
  /** The whole body must have arrived this long after the call started (as `guardRequestBody` enforces). */
  readonly requestBodyTimeoutMs: number;
}

/**
 * A router that registers on `router` and remembers each unary implementation for the lane. A service registered
 * with options of its own keeps the full path (the lane applies the router's options only).
 */
export function recordingRouter(
  router: ConnectRouter,
  opts: UnaryLaneOptions,
): { router: ConnectRouter; lane: UnaryLane } {
  const options = validateUniversalHandlerOptions(opts);
  const methods = new Map<string, LaneMethod>();
  const record = (service: DescService, method: DescMethodUnary, impl: unknown, bindTo: object | undefined): void => {
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
          if (!isUnary(method)) continue;
          record(service, method, (implementation as Record<string, unknown>)[method.localName], implementation);
        }
      }
      return this;
    },
    rpc(method, impl, methodOptions) {
      router.rpc(method, impl, methodOptions);
      if (methodOptions === undefined && isUnary(method)) record(method.parent, method, impl, undefined);
      return this;
    },
  };
  return { router: recording, lane: unaryLane(methods, options, opts) };
}

type Protocol = "connect" | "grpc";

function isUnary(method: DescMethod): method is DescMethodUnary {
  return method.methodKind === "unary";
}

const grpcContentType = "application/grpc+proto";

function unaryLane(
  methods: ReadonlyMap<string, LaneMethod>,
  options: ReturnType<typeof validateUniversalHandlerOptions>,
  opts: UnaryLaneOptions,
): UnaryLane {
  const interceptors: readonly Interceptor[] = options.interceptors;
  return {
    serve(req, res, path, hooks) {
      const target = methods.get(path);
      if (target === undefined || req.method !== "POST") return false;
      const shape = shapeOf(req);
      if (shape === undefined) return false;
      const { protocol, binary } = shape;
      const timeout =
        protocol === "grpc"
          ? parseGrpcTimeout(header(req, "grpc-timeout"), options.maxTimeoutMs)
          : parseConnectTimeout(header(req, "connect-timeout-ms"), options.maxTimeoutMs);
      if (timeout.error !== undefined) return false;
      // The full path refuses a body announced too large before reading it; so does it here.
      const envelope = protocol === "grpc" ? 5 : 0;
      const announced = req.headers["content-length"];
      if (announced !== undefined && Number(announced) > options.readMaxBytes + envelope) return false;
      const started = performance.now();
      readBody(req, options.readMaxBytes, envelope > 0, opts.requestBodyTimeoutMs, (outcome) => {
        if (outcome instanceof ConnectError) {
          hooks.refused(outcome, `${target.service.typeName}/${target.method.name}`);
          hooks.unread();
          if (res.destroyed || res.writableEnded) return;
          return answer(res, protocol, binary, outcome, undefined, responseHeader(req, protocol), new Headers());
        }
        if (outcome === undefined) return; // the client went away while sending
        const message = parse(target, outcome, protocol, binary, announced);
        if (message === undefined) return hooks.fallback(outcome);
        void call(target, message, req, res, protocol, binary, timeout.timeoutMs, started);
      });
      return true;
    },
  };

  async function call(
    target: LaneMethod,
    message: unknown,
    req: NodeRequest,
    res: NodeResponse,
    protocol: Protocol,
    binary: boolean,
    timeoutMs: number | undefined,
    started: number,
  ): Promise<void> {
    const controller = new AbortController();
    const signal = controller.signal;
    let timer: NodeJS.Timeout | undefined;
    if (timeoutMs !== undefined) {
      const expire = (): void => controller.abort(new ConnectError("the operation timed out", Code.DeadlineExceeded));
      const left = timeoutMs - (performance.now() - started);
      if (left <= 0) expire();
      else timer = setTimeout(expire, left);
    }
    const onClose = (): void => {
      if (!res.writableFinished) controller.abort(new ConnectError("the client closed the connection", Code.Canceled));
    };
    res.once("close", onClose);
    const shutdown = options.shutdownSignal;
    const onShutdown = (): void => controller.abort(shutdown?.reason);
    if (shutdown !== undefined) {
      if (shutdown.aborted) onShutdown();
      else shutdown.addEventListener("abort", onShutdown, { once: true });
    }
    // Whole milliseconds, as connect-es gives them: a handler may pass what is left on as its own call's deadline.
    const deadline =
      timeoutMs === undefined ? undefined : Date.now() + Math.floor(timeoutMs - (performance.now() - started));
    const context: HandlerContext = {
      method: target.method,
      service: target.service,
      requestMethod: "POST",
      protocolName: protocol,
      url: urlOf(req),
      signal,
      timeoutMs: () => (deadline === undefined ? undefined : deadline - Date.now()),
      requestHeader: webHeaders(req),
      responseHeader: responseHeader(req, protocol),
      responseTrailer: new Headers(),
      values: createContextValues().set(unaryLaneKey, true),
    };
    const anyFn = async (r: UnaryRequest): Promise<UnaryResponse> => {
      const output = await target.impl(r.message, {
        ...context,
        service: r.service,
        requestHeader: r.header,
        signal: r.signal,
        values: r.contextValues,
      });
      return {
        stream: false,
        message: create(target.method.output, output as never),
        method: target.method,
        service: target.service,
        header: context.responseHeader,
        trailer: context.responseTrailer,
      } as UnaryResponse;
    };
    let next = anyFn as (r: UnaryRequest) => Promise<UnaryResponse>;
    for (let i = interceptors.length - 1; i >= 0; i--) next = interceptors[i]!(next as never) as typeof next;
    let body: Uint8Array | undefined;
    let error: ConnectError | undefined;
    let header = context.responseHeader;
    let trailer = context.responseTrailer;
    try {
      const response = await next({
        stream: false,
        message,
        method: target.method,
        service: target.service,
        requestMethod: "POST",
        url: context.url,
        signal,
        header: context.requestHeader,
        contextValues: context.values,
      } as UnaryRequest);
      header = response.header;
      trailer = response.trailer;
      body = target.serialization.getO(binary).serialize(response.message);
    } catch (e) {
      error =
        e instanceof ConnectError ? e : new ConnectError("internal error", Code.Internal, undefined, undefined, e);
    } finally {
      clearTimeout(timer);
      res.off("close", onClose);
      shutdown?.removeEventListener("abort", onShutdown);
    }
    if (res.destroyed || res.writableEnded) return;
    answer(res, protocol, binary, error, body, header, trailer);
  }

  /**
   * The headers an answer starts with. gRPC names the response compression it negotiated from grpc-accept-encoding,
   * as connect-es does, even though answers here go uncompressed (an uncompressed message under a named encoding is
   * valid gRPC: each message's flag says).
   */
  function responseHeader(req: NodeRequest, protocol: Protocol): Headers {
    const out = new Headers();
    if (protocol !== "grpc") return out;
    const accepted = header(req, "grpc-accept-encoding");
    if (accepted === null) return out;
    const negotiated = compressionNegotiate(options.acceptCompression, null, accepted, "grpc-accept-encoding");
    if (negotiated.response !== null) out.set("grpc-encoding", negotiated.response.name);
    return out;
  }

  /** Writes the answer as connect-es's Connect unary and gRPC handlers do. */
  function answer(
    res: NodeResponse,
    protocol: Protocol,
    binary: boolean,
    error: ConnectError | undefined,
    body: Uint8Array | undefined,
    header: Headers,
    trailer: Headers,
  ): void {
    if (protocol === "connect") {
      let status = 200;
      let data: Uint8Array;
      if (error === undefined) {
        header.set("content-type", binary ? "application/proto" : "application/json");
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
    if (body === undefined) {
      res.end();
      return;
    }
    const frame = Buffer.allocUnsafe(5 + body.byteLength);
    frame[0] = 0;
    frame.writeUInt32BE(body.byteLength, 1);
    frame.set(body, 5);
    res.end(frame);
  }
}

/** The lane's shape of this request, from its headers alone; undefined: the full path's. */
function shapeOf(req: NodeRequest): { protocol: Protocol; binary: boolean } | undefined {
  const h = req.headers;
  switch (h["content-type"]) {
    case "application/proto":
      return identity(h["content-encoding"]) ? { protocol: "connect", binary: true } : undefined;
    case "application/json":
      return identity(h["content-encoding"]) ? { protocol: "connect", binary: false } : undefined;
    case "application/grpc":
    case "application/grpc+proto":
      // gRPC needs trailers: over HTTP/1.1 it takes the full path.
      return "stream" in req && identity(h["grpc-encoding"]) ? { protocol: "grpc", binary: true } : undefined;
    default:
      return undefined;
  }
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
 * first. An enveloped body (gRPC) is refused as soon as its prefix announces too large a message.
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
function parse(
  target: LaneMethod,
  body: Uint8Array,
  protocol: Protocol,
  binary: boolean,
  announced: string | undefined,
): unknown {
  if (announced !== undefined && Number(announced) !== body.length) return undefined;
  let data = body;
  if (protocol === "grpc") {
    if (body.length < 5 || body[0] !== 0) return undefined;
    const length = Buffer.from(body.buffer, body.byteOffset, body.byteLength).readUInt32BE(1);
    if (body.length !== 5 + length) return undefined;
    data = body.subarray(5);
  }
  try {
    return target.serialization.getI(binary).parse(data);
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
