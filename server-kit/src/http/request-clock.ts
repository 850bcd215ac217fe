import { createContextKey } from "@connectrpc/connect";

/**
 * The clock that times a stream's next request message (ESKIT_REQUEST_BODY_TIMEOUT_MS, see guardRequestBody). It
 * should run only while the client has the turn. A handler that reads ahead, as AppendStream does while it writes
 * the request before, also waits for the next message while the server has the turn. A client that sends its next
 * request only once it has the answer (a window of one) would otherwise be cut when a write outlasts the timeout.
 * `pause()` stops the clock until the function it returns is called; the next message then gets the whole timeout
 * again. Pauses nest.
 */
export interface RequestClock {
  pause(): () => void;
}

/** The call's clock, in a handler's context values; a call whose body is not timed per message has one that does nothing. */
export const requestClockKey = createContextKey<RequestClock>(
  { pause: () => () => {} },
  { description: "the clock of the next request message of a stream" },
);

/**
 * A deadline `timeoutMs` ahead that {@link race} enforces while the clock runs. {@link restart} moves it to a full
 * `timeoutMs` from now; so does the end of the last pause.
 */
export class MessageClock implements RequestClock {
  private deadline: number;
  private pauses = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Rejects the race under way, if one is. */
  private expireRace: (() => void) | undefined;

  constructor(private readonly timeoutMs: number) {
    this.deadline = performance.now() + timeoutMs;
  }

  restart(): void {
    this.deadline = performance.now() + this.timeoutMs;
  }

  pause(): () => void {
    this.pauses++;
    clearTimeout(this.timer);
    let resumed = false;
    return () => {
      if (resumed) return;
      resumed = true;
      if (--this.pauses > 0) return;
      this.restart();
      this.arm();
    };
  }

  /** `next`, or the error `expire` makes once the deadline passes first (never while paused). */
  race<T>(next: Promise<T>, expire: () => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.expireRace = () => reject(expire());
      this.arm();
      next.then(
        (value) => {
          this.disarm();
          resolve(value);
        },
        (error: unknown) => {
          this.disarm();
          reject(error);
        },
      );
    });
  }

  /** Ends the race under way, if any, leaving it unsettled by the clock. */
  disarm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.expireRace = undefined;
  }

  private arm(): void {
    clearTimeout(this.timer);
    const expire = this.expireRace;
    if (expire === undefined || this.pauses > 0) return;
    this.timer = setTimeout(expire, Math.max(0, this.deadline - performance.now()));
  }
}
