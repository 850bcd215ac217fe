import { JetStreamApiError, JetStreamApiCodes, type JetStreamManager } from "@nats-io/jetstream";
import { streamSubjectOf } from "../subjects.js";

/**
 * Creates the stream (file storage, every subject under the prefix, JetStream's default 2-minute duplicate window)
 * unless it exists; an existing stream's settings (retention, replicas, limits) are the operator's and left alone.
 */
export async function ensureStream(
  jsm: JetStreamManager,
  stream: string,
  subjectPrefix: string,
): Promise<"created" | "exists"> {
  try {
    await jsm.streams.info(stream);
    return "exists";
  } catch (error) {
    if (!(error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound)) throw error;
  }
  await jsm.streams.add({ name: stream, subjects: [streamSubjectOf(subjectPrefix)] });
  return "created";
}
