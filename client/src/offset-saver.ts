import { Code, ConnectError } from "@connectrpc/connect";
import { backoffDelay, sleep, type BackoffOptions } from "./backoff.js";
import { isTransient } from "./transient-error.js";

/** Options of {@link createOffsetSaver}. */
export interface OffsetSaverOptions {
  /** Writes the offset (ConsumerService.SaveOffset); `signal` aborts it when stopping runs out of time. */
  save(offset: bigint, signal: AbortSignal): Promise<void>;
  /** Where the consumer starts: offsets at or below it are never saved, since nothing past it was handled yet. */
  baseline: bigint;
  /** What {@link OffsetSaver.saved} reports until the first save: the offset the consumer resumed from, or 0. */
  initialSaved: bigint;
  /** Save once this many entries are unsaved. */
  everyEntries: number;
  /** Save an unsaved entry at most this long after it was handled, in ms. */
  intervalMs: number;
  /** The wait before retrying a failed save (at least `intervalMs` while running). */
  backoff: BackoffOptions;
  onSaved(offset: bigint): void;
  /** A save failed with an error that retrying cannot fix (see {@link isTransient}): the consumer must stop. */
  onPermanentFailure(error: unknown): void;
}

/** Saves a consumer's offset in the background as entries are handled, and a last time on stop. */
export interface OffsetSaver {
  /** Entries up to and including `offset` (`count` of them) were handled; saves when the policy says so. */
  handled(offset: bigint, count: number): void;
  /** The last offset the store confirmed (or {@link OffsetSaverOptions.initialSaved}). */
  readonly saved: bigint;
  /**
   * Stops saving in the background and saves the last handled offset, retrying transient failures with backoff for
   * at most `timeoutMs`. Resolves to the saved offset; rejects with the save's error when it could not save.
   */
  close(timeoutMs: number): Promise<bigint>;
}

/**
 * Creates an {@link OffsetSaver}. Saves are serialised, so an older offset can never overwrite a newer one, and
 * they run beside the handler rather than before the next entry: a slow store slows saving, not consuming. A
 * save that fails while running is not an error yet: the store is usually down, the stream has failed too and is
 * reconnecting, and the save is tried again at the next opportunity (more entries, or a timer).
 */
export function createOffsetSaver(options: OffsetSaverOptions): OffsetSaver {
  const lifetime = new AbortController();
  let handledUpTo = options.baseline;
  let confirmed = options.baseline;
  let saved = options.initialSaved;
  let unsavedCount = 0;
  let dueAt: number | undefined;
  let failures = 0;
  let lastError: unknown;
  let permanentError: unknown;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inFlight: Promise<void> | undefined;
  let closing = false;

  const clearTimer = () => {
    clearTimeout(timer);
    timer = undefined;
  };

  const succeeded = (offset: bigint) => {
    confirmed = offset;
    saved = offset;
    failures = 0;
    lastError = undefined;
    options.onSaved(offset);
  };

  const schedule = (): void => {
    if (closing || inFlight !== undefined || permanentError !== undefined || handledUpTo <= confirmed) return;
    const wait = (dueAt ?? 0) - Date.now();
    if (unsavedCount >= options.everyEntries || wait <= 0) {
      clearTimer();
      start();
    } else if (timer === undefined) {
      timer = setTimeout(() => {
        timer = undefined;
        schedule();
      }, wait);
    }
  };

  const start = () => {
    const target = handledUpTo;
    unsavedCount = 0;
    dueAt = undefined;
    inFlight = options
      .save(target, lifetime.signal)
      .then(
        () => succeeded(target),
        (error: unknown) => {
          // Cut short by close()'s deadline: close() reports it, with the error that came before.
          if (lifetime.signal.aborted) return;
          lastError = error;
          if (!isTransient(error)) {
            permanentError = error;
            options.onPermanentFailure(error);
            return;
          }
          const retryIn = Math.max(options.intervalMs, backoffDelay(failures++, options.backoff));
          dueAt = Math.min(dueAt ?? Infinity, Date.now() + retryIn);
        },
      )
      .finally(() => {
        inFlight = undefined;
        schedule();
      });
  };

  const close = async (timeoutMs: number): Promise<bigint> => {
    closing = true;
    clearTimer();
    const deadline = setTimeout(() => lifetime.abort(), timeoutMs);
    try {
      for (let attempt = 0; ; attempt++) {
        await inFlight;
        if (permanentError !== undefined) throw permanentError;
        if (handledUpTo <= confirmed) return saved;
        const target = handledUpTo;
        if (lifetime.signal.aborted) throw gaveUp(target, timeoutMs, lastError);
        try {
          await options.save(target, lifetime.signal);
          succeeded(target);
        } catch (error) {
          if (lifetime.signal.aborted) throw gaveUp(target, timeoutMs, lastError);
          if (!isTransient(error)) throw error;
          lastError = error;
          await sleep(backoffDelay(attempt, options.backoff), lifetime.signal);
        }
      }
    } finally {
      clearTimeout(deadline);
      lifetime.abort();
    }
  };

  return {
    handled(offset, count) {
      handledUpTo = offset;
      unsavedCount += count;
      dueAt ??= Date.now() + options.intervalMs;
      schedule();
    },
    get saved() {
      return saved;
    },
    close,
  };
}

function gaveUp(offset: bigint, timeoutMs: number, cause: unknown): ConnectError {
  const reason = cause === undefined ? "no answer" : ConnectError.from(cause).rawMessage;
  const code = cause === undefined ? Code.DeadlineExceeded : ConnectError.from(cause).code;
  return new ConnectError(
    `could not save offset ${offset} within ${timeoutMs} ms (${reason}): ` +
      "entries after the last saved offset will be delivered again",
    code,
    undefined,
    undefined,
    cause,
  );
}
