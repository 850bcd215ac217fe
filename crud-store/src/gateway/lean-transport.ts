import {
  type BinaryReadOptions,
  type BinaryWriteOptions,
  create,
  type DescMessage,
  type DescMethodUnary,
  type MessageInitShape,
} from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ContextValues,
  createContextValues,
  type Interceptor,
  type Transport,
  type UnaryRequest,
  type UnaryResponse,
} from "@connectrpc/connect";
import {
  compressionBrotli,
  compressionGzip,
  createConnectTransport,
  type Http2SessionManager,
} from "@connectrpc/connect-node";
import {
  type Compression,
  createMethodSerializationLookup,
  createMethodUrl,
  getAbortSignalReason,
  type Serialization,
  validateReadWriteMaxBytes,
} from "@connectrpc/connect/protocol";
import { headerUnaryEncoding, requestHeaderWithCompression } from "@connectrpc/connect/protocol-connect";
import { type AnswerReader, type CancelWatch, exchange } from "./lean-exchange.js";

/** Options of {@link createLeanTransport}: those of connect-node's Connect transport that it keeps. */
export interface LeanTransportOptions {
  readonly baseUrl: string;
  /** The HTTP/2 connection of every call, unary or stream. */
  readonly sessionManager: Http2SessionManager;
  readonly interceptors?: Interceptor[];
  /** Deadline of a call that names none (none by default), as connect-es's `defaultTimeoutMs`. */
  readonly defaultTimeoutMs?: number;
  /** connect-es's limits, with its defaults (4 GiB). */
  readonly readMaxBytes?: number;
  readonly writeMaxBytes?: number;
  /** Compressions the answers may use: gzip and brotli by default, as connect-node's. Requests go uncompressed. */
  readonly acceptCompression?: Compression[];
  readonly binaryOptions?: Partial<BinaryReadOptions & BinaryWriteOptions>;
}

/** What a unary method needs for each of its calls, worked out once. */
interface MethodPlan {
  readonly url: string;
  readonly path: string;
  /** Why calls of this method cannot go on the session (another origin), as connect-node words it. */
  readonly misdirected: string | undefined;
  readonly input: Serialization<unknown>;
  readonly reader: AnswerReader;
}

type UnaryFn = (req: UnaryRequest) => Promise<UnaryResponse>;

/**
 * A Transport speaking Connect (binary, over HTTP/2) whose unary calls do without connect-es's generic client path.
 * Per call, connect-es links three abort signals, pipes the request and the answer through async generators, builds
 * universal request and response objects, and ends with an `abort()` that builds a DOMException with its stack: on
 * the Crud Store's calls to the Event Store, about 15 % of its CPU. Here a unary call is one serialization, the same
 * interceptors (run as connect-es runs them, on the same request and response shapes), one HTTP/2 stream from the
 * session manager written and read with event listeners (lean-exchange.ts), and one parse of the answer by
 * connect-es's serialization of the method (so hand-written output schemas such as lean-events.ts's still work). It
 * fails as connect-es does: the same codes, messages, details and metadata, for errors the server sends and for
 * deadlines, cancellations and lost connections (the differential test in lean-transport.int.spec.ts holds the two
 * transports equal).
 *
 * What differs, seen only by an interceptor that keeps `req.signal` or by the server: the call's signal (one
 * AbortController per call, aborted by the caller's signal or at the deadline) is not aborted when the call succeeds
 * (that abort is the DOMException), only when it fails; a failed call's stream is reset as soon as the exchange
 * fails, not once the interceptors have seen the error; a call cancelled before it is sent opens no stream (connect-es
 * opens one and resets it). Server streams are rare here: they take connect-es's own transport, on the same session
 * manager.
 */
export function createLeanTransport(options: LeanTransportOptions): Transport {
  const { baseUrl, sessionManager: session, defaultTimeoutMs, binaryOptions } = options;
  const limits = validateReadWriteMaxBytes(options.readMaxBytes, options.writeMaxBytes, undefined);
  const acceptCompression = options.acceptCompression ?? [compressionGzip, compressionBrotli];
  const interceptors = options.interceptors ?? [];
  const streams = createConnectTransport({
    baseUrl,
    httpVersion: "2",
    sessionManager: session,
    useBinaryFormat: true,
    interceptors,
    defaultTimeoutMs,
    readMaxBytes: limits.readMaxBytes,
    writeMaxBytes: limits.writeMaxBytes,
    acceptCompression,
    binaryOptions,
  });
  const plans = new WeakMap<object, MethodPlan>();

  function planOf(method: DescMethodUnary): MethodPlan {
    let plan = plans.get(method);
    if (plan === undefined) {
      const url = createMethodUrl(baseUrl, method);
      const parsed = new URL(url);
      const serialization = createMethodSerializationLookup(method, binaryOptions, undefined, limits);
      plan = {
        url,
        path: parsed.pathname + parsed.search,
        misdirected: parsed.origin === session.authority ? undefined : misdirected(parsed.origin),
        input: serialization.getI(true) as Serialization<unknown>,
        reader: {
          method,
          readMaxBytes: limits.readMaxBytes,
          acceptCompression,
          output: serialization.getO(true) as Serialization<unknown>,
        },
      };
      plans.set(method, plan);
    }
    return plan;
  }

  function misdirected(origin: string): string {
    return `cannot make a request to ${origin}: the http2 session is connected to ${session.authority}`;
  }

  /** The innermost step of a call, under the interceptors: the exchange on the wire, as connect-es's transport. */
  function send(plan: MethodPlan, req: UnaryRequest, call: CallSignal): Promise<UnaryResponse> {
    let body: Uint8Array;
    let path = plan.path;
    let wrongOrigin = plan.misdirected;
    try {
      body = plan.input.serialize(req.message);
      req.header.delete(headerUnaryEncoding);
      if (req.url !== plan.url) {
        // An interceptor sent the call elsewhere.
        const parsed = new URL(req.url);
        path = parsed.pathname + parsed.search;
        wrongOrigin = parsed.origin === session.authority ? undefined : misdirected(parsed.origin);
      }
    } catch (error) {
      return Promise.reject(error);
    }
    // As connect-node: a call cancelled already fails with its cancellation, before the origin is looked at.
    if (wrongOrigin !== undefined && !req.signal.aborted) {
      return Promise.reject(new ConnectError(wrongOrigin, Code.Internal));
    }
    const watch = req.signal === call.signal ? call : signalWatch(req.signal);
    return exchange(session, req.requestMethod, path, nodeHeaders(req.header), body, plan.reader, watch);
  }

  return {
    unary<I extends DescMessage, O extends DescMessage>(
      method: DescMethodUnary<I, O>,
      signal: AbortSignal | undefined,
      timeoutMs: number | undefined,
      header: HeadersInit | undefined,
      input: MessageInitShape<I>,
      contextValues?: ContextValues,
    ): Promise<UnaryResponse<I, O>> {
      const timeout = timeoutMs === undefined ? defaultTimeoutMs : timeoutMs <= 0 ? undefined : timeoutMs;
      let plan: MethodPlan;
      let req: UnaryRequest;
      let call: CallSignal;
      try {
        plan = planOf(method as DescMethodUnary);
        const requestHeader = requestHeaderWithCompression(
          method.methodKind,
          true,
          timeout,
          header,
          acceptCompression,
          null,
          true,
        );
        const message = create(method.input, input);
        call = new CallSignal(signal, timeout);
        req = {
          stream: false,
          service: method.parent,
          method,
          requestMethod: "POST",
          url: plan.url,
          header: requestHeader,
          contextValues: contextValues ?? createContextValues(),
          message,
          signal: call.signal,
        } as UnaryRequest;
      } catch (error) {
        return Promise.reject(error);
      }
      // Applied per call, as connect-es does (an interceptor may keep state per call in its closure).
      let next: UnaryFn = (r) => send(plan, r, call);
      for (let i = interceptors.length - 1; i >= 0; i--) next = interceptors[i]!(next as never) as UnaryFn;
      let pending: Promise<UnaryResponse>;
      try {
        pending = next(req);
      } catch (error) {
        call.finish();
        return Promise.reject(error);
      }
      return pending.then(
        (response) => {
          call.finish();
          return response as UnaryResponse<I, O>;
        },
        (reason: unknown) => Promise.reject(call.fail(reason)),
      );
    },
    stream: (method, signal, timeoutMs, header, input, contextValues) =>
      streams.stream(method, signal, timeoutMs, header, input, contextValues),
  };
}

/**
 * A call's signal: aborted by the caller's signal (with its reason) or at the deadline (`deadline_exceeded`), as
 * connect-es's linked signals are, with one AbortController, at most one timer and one listener on the caller's
 * signal, both gone when the call ends. The exchange on the wire is told directly rather than by a second listener.
 */
class CallSignal implements CancelWatch {
  private readonly controller = new AbortController();
  readonly signal = this.controller.signal;
  private readonly timer: ReturnType<typeof setTimeout> | undefined;
  private readonly caller: AbortSignal | undefined;
  private readonly onCallerAbort: (() => void) | undefined;
  /** The exchange in flight on this signal. */
  private cancel: ((reason: unknown) => void) | undefined;

  constructor(caller: AbortSignal | undefined, timeoutMs: number | undefined) {
    if (caller?.aborted === true) {
      this.abort(getAbortSignalReason(caller));
      return;
    }
    if (timeoutMs !== undefined) {
      this.timer = setTimeout(
        () => this.abort(new ConnectError("the operation timed out", Code.DeadlineExceeded)),
        timeoutMs,
      );
    }
    if (caller !== undefined) {
      this.caller = caller;
      this.onCallerAbort = () => this.abort(getAbortSignalReason(caller));
      caller.addEventListener("abort", this.onCallerAbort);
    }
  }

  watch(fail: (reason: unknown) => void): () => void {
    if (this.signal.aborted) {
      fail(getAbortSignalReason(this.signal));
      return noop;
    }
    // A second exchange at once (an interceptor calling `next` twice) listens as any other would.
    if (this.cancel !== undefined) return signalWatch(this.signal).watch(fail);
    this.cancel = fail;
    return () => {
      if (this.cancel === fail) this.cancel = undefined;
    };
  }

  /** The call ended: stops the timer and the listener. */
  finish(): void {
    clearTimeout(this.timer);
    if (this.onCallerAbort !== undefined) this.caller!.removeEventListener("abort", this.onCallerAbort);
  }

  /** The call failed with `reason`: what it rejects with, as connect-es's runUnaryCall words it. */
  fail(reason: unknown): ConnectError {
    const error = this.signal.aborted
      ? ConnectError.from(getAbortSignalReason(this.signal), Code.Canceled)
      : ConnectError.from(reason);
    this.abort(error);
    this.finish();
    return error;
  }

  private abort(reason: unknown): void {
    if (this.signal.aborted) return;
    this.controller.abort(reason);
    const cancel = this.cancel;
    this.cancel = undefined;
    cancel?.(reason);
  }
}

function noop(): void {}

/** Watches a signal an interceptor put in the request instead of the call's own. */
function signalWatch(signal: AbortSignal): CancelWatch {
  return {
    watch(fail) {
      if (signal.aborted) {
        fail(getAbortSignalReason(signal));
        return noop;
      }
      const onAbort = (): void => fail(getAbortSignalReason(signal));
      signal.addEventListener("abort", onAbort);
      return () => signal.removeEventListener("abort", onAbort);
    },
  };
}

/** The request's headers as connect-node hands them to Node (webHeaderToNodeHeaders). */
function nodeHeaders(header: Headers): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  header.forEach((value, key) => {
    const existing = out[key];
    if (existing === undefined) out[key] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else out[key] = [existing, value];
  });
  return out;
}
