/**
 * Waiting for what a projection reaches in its own time (a position, a state, a process's next batch) by polling,
 * so that a test fails with what it waited for, not with the runner's timeout.
 */

/** A condition a test waits for; checked again until it holds. */
export type Condition = () => boolean | Promise<boolean>;

export interface WaitOptions {
  /** How long before giving up; 15 s by default. */
  readonly timeoutMs?: number;
  /** How often to check; 20 ms by default (a test that acts inside a 40 ms batch needs a few). */
  readonly pollMs?: number;
  /** More for a timeout's message, such as a child process's log. */
  readonly explain?: () => string;
}

/** Resolves once `condition` holds; rejects after the timeout with `what` in the message. */
export async function waitFor(condition: Condition, what: string, options: WaitOptions = {}): Promise<void> {
  const { timeoutMs = 15_000, pollMs = 20, explain } = options;
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      const details = explain === undefined ? "" : `\n${explain()}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${details}`);
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
