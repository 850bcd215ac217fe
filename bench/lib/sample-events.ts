import type { NewEvent } from "@eskit/client/new-event.js";

/** The entity type and action every benchmark event has; the raw baselines write the same values. */
export const entityType = "Account";
export const action = "Deposited";
export const eventType = `${entityType}.${action}`;
export const metadata: Readonly<Record<string, string>> = { source: "bench", tenant: "t-001" };

/** A JSON payload of about 120 bytes, the same for the store and the raw baselines. */
export function payload(n: number): string {
  return JSON.stringify({
    amount: (n % 9973) + 0.5,
    currency: "EUR",
    reference: `ref-${n.toString().padStart(10, "0")}`,
    note: "bench deposit",
  });
}

/**
 * Per-worker originators with consecutive versions: each worker owns `<prefix>-<worker>` and writes versions
 * 1, 2, 3 ..., so no two workers conflict and every append is a valid, new write.
 */
export class OriginatorSequence {
  private readonly versions = new Map<number, bigint>();
  private serial = 0;

  constructor(private readonly prefix: string) {}

  /** The next `size` events of `worker`'s originator. */
  next(worker: number, size: number): NewEvent[] {
    const from = this.versions.get(worker) ?? 0n;
    this.versions.set(worker, from + BigInt(size));
    return Array.from({ length: size }, (_, i) => ({
      originatorId: `${this.prefix}-${worker}`,
      version: from + BigInt(i) + 1n,
      eventType,
      payload: payload(this.serial++),
      metadata: { ...metadata },
    }));
  }
}
