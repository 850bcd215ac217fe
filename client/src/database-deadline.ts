/**
 * The code of a {@link NoAnswerError}: transient to `isTransientDatabaseError` (database-error.ts), so what failed is
 * tried again. Not a dead connection's: nothing throws it inside a transaction, and one that did must roll back.
 */
export const noAnswerCode = "ESKIT_NO_ANSWER";

/**
 * A statement of the projection's own got no answer in time. postgres.js 3.4.9 can lose a statement whose connection
 * dies at the wrong moment: `sql.begin` waits forever when the connection closes between the answer to BEGIN and the
 * moment it starts watching the connection, and a statement sent just as the connection closes may never settle (seen
 * with `pg_terminate_backend`, see client/test/projection.e2e.spec.ts). Treated as a lost connection.
 */
export class NoAnswerError extends Error {
  readonly code = noAnswerCode;
  constructor(what: string, ms: number) {
    super(`${what}: no answer from the database in ${ms} ms`);
    this.name = "NoAnswerError";
  }
}

/**
 * `work`, or a {@link NoAnswerError} if it has not settled within `ms`; `onTimeout` runs then (to drop the connection
 * it was on). Whatever `work` does later is ignored.
 */
export function answeredWithin<T>(work: Promise<T>, ms: number, what: string, onTimeout?: () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      onTimeout?.();
      reject(new NoAnswerError(what, ms));
    }, ms);
    timer.unref?.();
    work.then(
      (value) => (clearTimeout(timer), resolve(value)),
      (error: unknown) => (clearTimeout(timer), reject(error)),
    );
  });
}
