import { create } from "@bufbuild/protobuf";
import { LogsPollRequestSchema } from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import type { BenchClient } from "./eskit-client.js";

/** Follows a LogsPoll stream from `fromId` until `signal` aborts, noting when each entry arrived, by log id. */
export async function followStream(
  reader: BenchClient,
  fromId: bigint,
  arrivals: Map<bigint, number>,
  signal: AbortSignal,
): Promise<void> {
  const request = create(LogsPollRequestSchema, { fromId });
  for await (const response of reader.client.logsPoll(request, { signal })) {
    const now = performance.now();
    for (const entry of response.entries) arrivals.set(entry.id, now);
  }
}
