import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { errorInterceptor } from "./error-interceptor.js";

class KnownError extends Error {}

const mapping = (error: unknown) =>
  error instanceof KnownError ? new ConnectError(error.message, Code.FailedPrecondition) : undefined;

type Next = Parameters<ReturnType<typeof errorInterceptor>>[0];
type Request = Parameters<Next>[0];
const request = { signal: new AbortController().signal } as Request;

async function unaryFailure(thrown: unknown, req = request): Promise<ConnectError> {
  const call = errorInterceptor(mapping)((async () => {
    throw thrown;
  }) as unknown as Next);
  return call(req).then(
    () => expect.unreachable("the call succeeded"),
    (error: unknown) => error as ConnectError,
  );
}

async function streamFailure(thrown: unknown, req = request): Promise<{ got: number[]; error: ConnectError }> {
  async function* messages() {
    yield 1;
    yield 2;
    throw thrown;
  }
  const call = errorInterceptor(mapping)((async () => ({ stream: true, message: messages() })) as unknown as Next);
  const response = (await call(req)) as unknown as { message: AsyncIterable<number> };
  const got: number[] = [];
  try {
    for await (const m of response.message) got.push(m);
  } catch (error) {
    return { got, error: error as ConnectError };
  }
  return expect.unreachable("the stream ended without its error");
}

describe("errorInterceptor", () => {
  it("maps a known error of a unary call through the service's mapping", async () => {
    const error = await unaryFailure(new KnownError("not now"));
    expect(error).toBeInstanceOf(ConnectError);
    expect([error.code, error.rawMessage]).toEqual([Code.FailedPrecondition, "not now"]);
  });

  it("maps an error thrown inside a response stream, after the messages before it", async () => {
    const { got, error } = await streamFailure(new KnownError("mid-stream"));
    expect(got).toEqual([1, 2]);
    expect([error.code, error.rawMessage]).toEqual([Code.FailedPrecondition, "mid-stream"]);
  });

  it("turns an unknown error into internal with a fixed message, keeping it as the cause", async () => {
    const bug = new TypeError("cannot read properties of undefined (reading 'secret')");
    for (const error of [await unaryFailure(bug), (await streamFailure(bug)).error]) {
      expect([error.code, error.rawMessage]).toEqual([Code.Internal, "internal error"]);
      expect(error.cause).toBe(bug);
    }
  });

  it("passes a ConnectError the mapping leaves alone as it is", async () => {
    const original = new ConnectError("slow down", Code.ResourceExhausted);
    expect(await unaryFailure(original)).toBe(original);
  });

  it("reads a bare AbortError (a client gone over HTTP/1.1) as canceled, not as a fault of ours", async () => {
    const abort = new DOMException("This operation was aborted", "AbortError");
    expect((await unaryFailure(abort)).code).toBe(Code.Canceled);
    expect((await streamFailure(abort)).error.code).toBe(Code.Canceled);
  });

  it("reads a stream reset by a client whose connection died as canceled, not as a fault of ours", async () => {
    // What connect-node aborts the call's signal with when the peer's HTTP/2 session goes (kill -9, network cut).
    const reset = new ConnectError("http/2 stream closed with error code INTERNAL_ERROR (0x2)", Code.Internal);
    const aborted = new AbortController();
    aborted.abort(reset);
    const req = { signal: aborted.signal } as Request;
    for (const error of [await unaryFailure(reset, req), (await streamFailure(reset, req)).error]) {
      expect(error.code).toBe(Code.Canceled);
      expect(error.cause).toBe(reset);
    }
    // The same error while the call's signal is live is no client's doing: it stays internal.
    expect((await unaryFailure(reset)).code).toBe(Code.Internal);
  });
});
