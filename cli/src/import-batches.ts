import { Code, ConnectError } from "@connectrpc/connect";
import { appendRequestOf, appendStreamRequestOf } from "./event-binary.js";
import { type Event, type EventStoreClient, eventIdTakenOf, versionConflictOf, versionGapOf } from "@eskit/client";

/**
 * At most this many bytes of lines per batch: below the Event Store's default bound on a request's payloads
 * (ESKIT_MAX_REQUEST_BYTES, 4 MiB).
 */
export const batchBytes = 3 * 1024 * 1024;

/**
 * Batches sent over the stream and not yet stored, at most: the server reads one while it writes another, and one
 * more is on the way. Each is up to 3 MiB of lines, sent again after a lost connection.
 */
const window = 3;

/** One line of an import file: its number, where it ends, and its event. */
export interface Line {
  readonly number: number;
  readonly end: number;
  readonly bytes: number;
  readonly event: Event;
}

/** Called once a batch is stored, in file order, before the next one is: to note where a resumed import starts. */
export type NoteStored = (batch: readonly Line[]) => Promise<void>;

/**
 * The lines in batches of at most `events` lines and {@link batchBytes} bytes. Once `signal` aborts (Ctrl-C), no
 * further batch: the lines after the last one handed on wait for the resumed run.
 */
export async function* batchesOf(
  lines: AsyncIterable<Line>,
  events: number,
  signal: AbortSignal,
): AsyncGenerator<Line[]> {
  let batch: Line[] = [];
  let bytes = 0;
  for await (const line of lines) {
    if (batch.length === events || (batch.length > 0 && bytes + line.bytes > batchBytes)) {
      if (signal.aborted) return;
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(line);
    bytes += line.bytes;
  }
  if (batch.length > 0 && !signal.aborted) yield batch;
}

/**
 * Stores the batches over one AppendStream: each batch an atomic Append, written once the one before it committed
 * (the log keeps the file's order), while the next ones are already on the way (the server checks one while the
 * database writes another). False when the server has no AppendStream (an older one: `unimplemented` before
 * anything was stored); the caller then sends Appends one by one.
 */
export async function storeInOrder(
  client: EventStoreClient,
  batches: AsyncIterable<Line[]>,
  noteStored: NoteStored,
): Promise<boolean> {
  const sent: Line[][] = [];
  async function* requests() {
    for await (const batch of batches) {
      sent.push(batch);
      yield appendStreamRequestOf(batch.map((line) => line.event));
    }
  }
  let stored = 0;
  try {
    // No signal: Ctrl-C ends the batches, and the ones already sent are stored and noted before the stream ends.
    for await (const _ of client.appendInOrder(requests(), { window })) {
      await noteStored(sent.shift()!);
      stored++;
    }
    return true;
  } catch (error) {
    if (stored === 0 && error instanceof ConnectError && error.code === Code.Unimplemented) return false;
    // The first batch not stored is the one the error is about (or the one under way when the stream broke).
    throw namingLines(error, sent[0]);
  }
}

/**
 * Stores the batches with one Append after the other (for servers without AppendStream): one batch is stored while
 * the next is read and parsed, never two at once, so the events keep the file's order in the log.
 */
export async function storeOneByOne(
  client: EventStoreClient,
  batches: AsyncIterable<Line[]>,
  noteStored: NoteStored,
): Promise<void> {
  let storing: Promise<void> | undefined;
  for await (const batch of batches) {
    await storing;
    // Not cancelled by Ctrl-C: the batch under way is stored and noted, then the import stops.
    storing = client.append(appendRequestOf(batch.map((line) => line.event))).then(
      () => noteStored(batch),
      (error: unknown) => Promise.reject(namingLines(error, batch)),
    );
    // Its failure surfaces at the next batch or at the end; until then it must not count as unhandled.
    storing.catch(() => {});
  }
  await storing;
}

/** Codes after which the batch under way may be stored or not: they are about the connection, not a line. */
const ambiguous: ReadonlySet<Code> = new Set([Code.Unavailable, Code.DeadlineExceeded, Code.Canceled]);

/**
 * The Event Store's refusal of `batch`, naming its lines (and the line of the event it names, when it names one) so
 * the user knows where to look; same code and details. Anything else as it is.
 */
function namingLines(error: unknown, batch: readonly Line[] | undefined): unknown {
  if (!(error instanceof ConnectError) || batch === undefined || ambiguous.has(error.code)) return error;
  const range = `lines ${batch[0]!.number}-${batch.at(-1)!.number}`;
  const line = lineNamed(error, batch);
  const where = line === undefined ? `the batch of ${range}` : `line ${line.number}, in the batch of ${range}`;
  const named = new ConnectError(
    `${error.rawMessage} (${where}: nothing of it is stored, every line before it is)`,
    error.code,
    error.metadata,
    [],
    error.cause,
  );
  // The details as they came (the constructor takes outgoing ones only).
  named.details = error.details;
  return named;
}

/** The line of the event an error is about: by its index in the request, or by its originator and version. */
function lineNamed(error: ConnectError, batch: readonly Line[]): Line | undefined {
  const index = eventIdTakenOf(error)?.index ?? /\bevents\[(\d+)\]/u.exec(error.rawMessage)?.[1];
  if (index !== undefined) return batch[Number(index)];
  const version = versionConflictOf(error) ?? versionGapOf(error);
  if (version === undefined) return undefined;
  return batch.find(
    (line) =>
      line.event.originator?.id === version.originatorId && line.event.originator.version === version.expectedVersion,
  );
}
