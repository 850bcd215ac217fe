import { AlreadyExistsError, ConcurrencyError } from "../domain/errors.js";

/**
 * The one difference of v1's error codes from ours: v1 answered a stale version with `already_exists` (the version it
 * tried to write was taken), where we answer `aborted`. Translated on the v1 path only, before the shared
 * errorInterceptor maps domain errors to Connect codes; every other error keeps its meaning.
 */
export function toV1Error(error: unknown): unknown {
  if (error instanceof ConcurrencyError) return new AlreadyExistsError(error.message, { cause: error });
  return error;
}

/** Runs a v1 handler's work, translating its errors with {@link toV1Error}. */
export async function v1Call<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw toV1Error(error);
  }
}
