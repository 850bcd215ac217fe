/**
 * A model of the version rule, used to judge concurrent appends after the fact: the outcomes of requests that ran
 * at the same time are correct when SOME serial order of them, consistent with the log ids the store returned,
 * would have produced exactly those outcomes.
 */
import { Code } from "@eskit/client";

/** One Append request as sent: the versions it asked for, per originator, in request order. */
export interface SentRequest {
  /** Originator id and the version of its first event in the request, then how many consecutive events. */
  readonly parts: ReadonlyArray<{
    readonly originatorId: string;
    readonly firstVersion: bigint;
    readonly count: number;
  }>;
  readonly outcome:
    { readonly ok: true; readonly logIds: readonly bigint[] } | { readonly ok: false; readonly code: Code };
}

/**
 * The codes the version rule allows for `request` against `current` (the originators' versions): none when it must
 * succeed; otherwise `aborted` for a part at or below current and `failed_precondition` for one beyond current + 1.
 * When parts fail differently, either code is acceptable: the contract does not rank them.
 */
export function allowedFailures(request: Pick<SentRequest, "parts">, current: ReadonlyMap<string, bigint>): Set<Code> {
  const codes = new Set<Code>();
  for (const part of request.parts) {
    const at = current.get(part.originatorId) ?? 0n;
    if (part.firstVersion <= at) codes.add(Code.Aborted);
    else if (part.firstVersion > at + 1n) codes.add(Code.FailedPrecondition);
  }
  return codes;
}

/**
 * Finds a serial order of `requests` (which ran concurrently, after everything in `current` committed and after log
 * id `lastLogId`) that explains every outcome: each acknowledged request is valid at its turn and its log ids come
 * after those of the requests before it; each refused one is invalid at its turn and got an allowed code. Returns the
 * order (indices) or undefined. Requests are few per round, so trying every permutation is cheap.
 */
export function findSerialOrder(
  requests: readonly SentRequest[],
  current: ReadonlyMap<string, bigint>,
  lastLogId: bigint,
): number[] | undefined {
  for (const order of permutations(requests.map((_, i) => i))) {
    const versions = new Map(current);
    let last = lastLogId;
    const explained = order.every((index) => {
      const request = requests[index]!;
      const failures = allowedFailures(request, versions);
      if (!request.outcome.ok) return failures.has(request.outcome.code);
      if (failures.size > 0) return false;
      const ids = request.outcome.logIds;
      if (ids.some((id) => id <= last)) return false;
      last = ids.reduce((a, b) => (b > a ? b : a), last);
      for (const part of request.parts) versions.set(part.originatorId, part.firstVersion + BigInt(part.count) - 1n);
      return true;
    });
    if (explained) return order;
  }
  return undefined;
}

function* permutations(items: readonly number[]): Generator<number[]> {
  if (items.length <= 1) {
    yield [...items];
    return;
  }
  for (let i = 0; i < items.length; i++) {
    const rest = [...items.slice(0, i), ...items.slice(i + 1)];
    for (const tail of permutations(rest)) yield [items[i]!, ...tail];
  }
}
