import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";

/**
 * Server interceptor that keeps at most `max` server streams open at once (every streaming method of every service
 * on the server), so a flood of subscriptions cannot exhaust the process's memory or file descriptors: one more is
 * refused at once with `resource_exhausted`, which clients such as the consumer helper retry with backoff.
 *
 * A slot is freed when its stream's handler has ended, however it ends (completed, failed, canceled, cut by shutdown
 * or as a stalled reader), not when its signal fires: a handler still running after its client left still holds its
 * memory, and `eskit_rpc_streams_open` (which counts running handlers) must never read above `max`. Only a stream
 * whose messages are never asked for is freed by its signal. `onEnded` is told of every slot freed.
 */
export function streamLimitInterceptor(max: number, onEnded: () => void = () => {}): Interceptor {
  let open = 0;
  return (next) => async (req) => {
    if (!req.stream) return next(req);
    if (open >= max) {
      throw new ConnectError(
        `this server already has ${max} streams open, its limit (ESKIT_MAX_STREAMS): retry later`,
        Code.ResourceExhausted,
      );
    }
    open++;
    let started = false;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      open--;
      onEnded();
      req.signal.removeEventListener("abort", releaseUnstarted);
    };
    const releaseUnstarted = (): void => {
      if (!started) release();
    };
    // Connect aborts the call's signal whenever the call ends, also when a stream is never read at all.
    req.signal.addEventListener("abort", releaseUnstarted, { once: true });
    try {
      const res = await next(req);
      if (!res.stream) return res;
      return {
        ...res,
        message: releasing(res.message, release, () => {
          started = true;
        }),
      };
    } catch (error) {
      release();
      throw error;
    }
  };
}

async function* releasing<T>(messages: AsyncIterable<T>, release: () => void, onStart: () => void): AsyncGenerator<T> {
  onStart();
  try {
    yield* messages;
  } finally {
    release();
  }
}
