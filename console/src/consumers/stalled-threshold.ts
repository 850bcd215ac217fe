/**
 * How long a consumer that is behind the head may go without saving its offset before the page calls it stalled:
 * 60 s. A consumer built on @eskit/client saves at most a second after handling an entry (`saveIntervalMs`), gives
 * up on a silent stream after 45 s (`heartbeatTimeoutMs`) and reconnects within 10 s, so one that is behind and has
 * saved nothing for a minute is not making progress, whatever its rhythm.
 */
export const defaultStalledAfterSeconds = 60;

/**
 * The address's query parameter that sets another threshold, in whole seconds (`?stalledAfter=5#/consumers`): for a
 * system whose consumers save less often, and for tests, which cannot back-date a save.
 */
export const stalledAfterParameter = "stalledAfter";

/** The threshold in force, and whether the address set it (the page then says so). */
export interface StalledThreshold {
  readonly seconds: number;
  readonly fromAddress: boolean;
}

/** The threshold `search` (the address's query, e.g. `?stalledAfter=5`) sets, else the default; nonsense is ignored. */
export function stalledThresholdOf(search: string): StalledThreshold {
  const text = new URLSearchParams(search).get(stalledAfterParameter)?.trim() ?? "";
  if (/^\d{1,9}$/.test(text)) return { seconds: Number(text), fromAddress: true };
  return { seconds: defaultStalledAfterSeconds, fromAddress: false };
}
