import fc from "fast-check";

/**
 * How much the property and stress tests do: the full sizes in CI (`ESKIT_FULL_TESTS=1`, set by `.ci/run`; or
 * `CI=true`), small ones on a developer's machine, so the edit-test loop of one package takes seconds. The small sizes
 * still run every property and every stress path; CI runs them as written.
 */
export const fullTestSizes = process.env["ESKIT_FULL_TESTS"] === "1" || process.env["CI"] === "true";

/** Runs of fast-check properties that name no `numRuns` (fast-check's own default is 100). */
export const defaultPropertyRuns = fullTestSizes ? 100 : 25;

/** `full` in CI; a quarter of it (at least `min`) on a developer's machine. */
export function testSize(full: number, min = 1): number {
  return fullTestSizes ? full : Math.max(min, Math.ceil(full / 4));
}

/** Applies {@link defaultPropertyRuns} to fast-check: vitest runs this before every test file (its setupFiles). */
export function configurePropertySizes(): void {
  fc.configureGlobal({ numRuns: defaultPropertyRuns });
}
