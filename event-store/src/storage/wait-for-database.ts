import type { Logger } from "@eskit/server-kit/logger.js";
import { isConnectionError } from "./errors.js";

/** Options of {@link waitForDatabase}. */
export interface WaitOptions {
  /** How long to keep trying, in ms (ESKIT_DB_STARTUP_TIMEOUT_MS); 0 = one attempt. */
  readonly timeoutMs: number;
  readonly logger: Logger;
}

/** Raised when the database stayed unreachable for the whole start-up timeout. */
export class DatabaseUnreachableError extends Error {
  override name = "DatabaseUnreachableError";
}

const firstDelayMs = 250;
const maxDelayMs = 5000;

/**
 * Runs `prepare` (dial and migrate) until it succeeds, retrying while the database cannot be reached, with backoff
 * (250 ms doubling to 5 s), each failed attempt logged at warn: under Compose or Kubernetes the database may start
 * after the service. Past `timeoutMs` it throws {@link DatabaseUnreachableError} naming the setting; an error that is
 * not about reaching the database (a failed migration, a refused password) is thrown at once, since waiting cannot
 * fix it.
 */
export async function waitForDatabase(prepare: () => Promise<void>, options: WaitOptions): Promise<void> {
  const started = performance.now();
  for (let attempt = 1; ; attempt++) {
    try {
      await prepare();
      if (attempt > 1) options.logger.info("database reachable", { attempt });
      return;
    } catch (error) {
      if (!isConnectionError(error)) throw error;
      const elapsed = performance.now() - started;
      const left = options.timeoutMs - elapsed;
      if (left <= 0) {
        throw new DatabaseUnreachableError(
          `the database was not reachable within ${options.timeoutMs} ms (ESKIT_DB_STARTUP_TIMEOUT_MS), ` +
            `${attempt} attempts; last error: ${String(error)}`,
          { cause: error },
        );
      }
      const delayMs = Math.min(left, firstDelayMs * 2 ** Math.min(attempt - 1, 10), maxDelayMs);
      options.logger.warn("database not reachable; retrying", {
        attempt,
        retry_in_ms: Math.round(delayMs),
        elapsed_ms: Math.round(elapsed),
        error: String(error),
      });
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}
