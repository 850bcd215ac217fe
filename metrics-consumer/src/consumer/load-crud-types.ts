import type { CrudClient } from "@eskit/client";
import { backoffDelay, sleep } from "@eskit/client/backoff.js";
import type { Logger } from "@eskit/server-kit/logger.js";

/** Options of {@link loadCrudTypes}. */
export interface LoadCrudTypesOptions {
  /** Stops the retries; the promise then resolves to undefined. */
  signal: AbortSignal;
  /** Deadline of each ListTypes call, in ms. */
  timeoutMs: number;
  logger: Logger;
  /** Backoff between attempts (full jitter), in ms. */
  initialDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * Every entity type registered in the Crud Store (all pages of ListTypes), retried with backoff for as long as it
 * takes: the log must not be consumed before the registry is known, or the Crud Store events read meanwhile would be
 * counted as plain events for good. Resolves to undefined when `signal` aborts first.
 */
export async function loadCrudTypes(crud: CrudClient, options: LoadCrudTypesOptions): Promise<string[] | undefined> {
  const backoff = { initialDelayMs: options.initialDelayMs ?? 200, maxDelayMs: options.maxDelayMs ?? 10_000 };
  for (let attempt = 0; !options.signal.aborted; attempt++) {
    try {
      const types: string[] = [];
      for await (const spec of crud.listTypes({ limit: 1000, signal: options.signal, timeoutMs: options.timeoutMs })) {
        types.push(spec.entityType);
      }
      return types;
    } catch (error) {
      if (options.signal.aborted) break;
      const delayMs = backoffDelay(attempt, backoff);
      options.logger.warn("cannot read the Crud Store's types yet; retrying", {
        error: String(error),
        attempt,
        delay_ms: delayMs,
      });
      await sleep(delayMs, options.signal);
    }
  }
  return undefined;
}
