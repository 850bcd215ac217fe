import type { Writable } from "node:stream";

/** Awaits a postgres.js query, cancelling it when `signal` aborts. */
export async function cancelledBy<T>(pending: PromiseLike<T> & object, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return pending;
  const cancel = (): void => cancelQuery(pending);
  if (signal.aborted) cancel();
  else signal.addEventListener("abort", cancel, { once: true });
  try {
    return await pending;
  } finally {
    signal.removeEventListener("abort", cancel);
  }
}

/**
 * Cancels a postgres.js query. Its `cancel()` drops the promise of the cancel request, which rejects when the request
 * cannot be sent (the database unreachable: just when deadlines pass), and an unhandled rejection ends the process;
 * so the canceller it wraps (postgres.js 3.4, pinned) is called here and its failure ignored: the statement then
 * fails with its connection anyway.
 */
function cancelQuery(query: object): void {
  const q = query as { canceller?: ((query: object) => Promise<void>) | null };
  const canceller = q.canceller;
  if (typeof canceller !== "function") return;
  q.canceller = null;
  canceller(query).catch(() => {});
}

type CopyQuery = PromiseLike<Writable> & {
  writable(): Promise<Writable>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
};

/**
 * Runs a `copy ... from stdin` on `connection` (a postgres.js reserved connection) with the rows `data` resolves to
 * (or, when it resolves to undefined, fails the COPY), and resolves once PostgreSQL has taken them; rejects with
 * PostgreSQL's error. postgres.js 3.4 (pinned) resolves the query with its stream at the start of the COPY and drops
 * an error that comes after the stream was ended (a unique key, a refused value): so its query's own resolve and
 * reject are watched here, which postgres.js calls once more when the statement ends, with its result or its error.
 */
export function copyIn(
  connection: { unsafe(text: string): unknown },
  text: string,
  data: Promise<Uint8Array | undefined>,
): Promise<void> {
  const query = connection.unsafe(text) as CopyQuery;
  const ended = new Promise<void>((resolve, reject) => {
    const resolveQuery = query.resolve.bind(query);
    const rejectQuery = query.reject.bind(query);
    let answers = 0;
    query.resolve = (value) => {
      resolveQuery(value);
      // The first answer is the stream; the second, the statement's end.
      if (++answers === 2) resolve();
    };
    query.reject = (error) => {
      rejectQuery(error);
      reject(error);
    };
  });
  const sent = query.writable().then(async (stream) => {
    const rows = await data;
    // Without rows the COPY is failed (postgres.js sends CopyFail for a destroyed stream): PostgreSQL refuses it.
    // PostgreSQL's answer to it rejects the query; the stream's own error says nothing more.
    stream.on("error", () => {});
    // postgres.js's stream destroys itself once finished, and its destroy sends CopyFail: PostgreSQL ignores that
    // after the COPY, unless the connection has started another COPY by then, which it then fails (seen here).
    (stream as unknown as { _writableState: { autoDestroy: boolean } })._writableState.autoDestroy = false;
    if (rows === undefined) stream.destroy(new Error("the COPY was called off"));
    else stream.end(rows);
  });
  return Promise.all([sent, ended]).then(() => {});
}
