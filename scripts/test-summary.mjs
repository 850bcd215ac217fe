#!/usr/bin/env node
// Prints one line, `N passed, N failed`, from vitest JSON reports, because CI reads that line and not vitest's
// own summary. Usage: node scripts/test-summary.mjs [--failed N] report.json [report.json ...]
// `--failed N` adds N failures that happened outside vitest (drift, lint, typecheck). A missing or unreadable
// report counts as one failure: vitest crashed before writing it. Exits 1 when anything failed.
import { readFileSync } from "node:fs";

let passed = 0;
let failed = 0;
const args = process.argv.slice(2);

for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  if (arg === "--failed") {
    failed += Number.parseInt(args[++i] ?? "0", 10) || 0;
    continue;
  }
  let report;
  try {
    report = JSON.parse(readFileSync(arg, "utf8"));
  } catch (err) {
    console.error(`test-summary: no usable report at ${arg}: ${err.message}`);
    failed += 1;
    continue;
  }
  const counted = count(report);
  passed += counted.passed;
  failed += counted.failed;
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);

/**
 * Failed tests, plus one per test file that failed without a failed test (it did not import, or a hook threw and
 * its tests were skipped), plus one if vitest reported failure (an unhandled error) that nothing else explains.
 */
function count(report) {
  let reportFailed = report.numFailedTests ?? 0;
  for (const file of report.testResults ?? []) {
    const anyFailed = (file.assertionResults ?? []).some((a) => a.status === "failed");
    if (file.status === "failed" && !anyFailed) reportFailed += 1;
  }
  if (report.success === false && reportFailed === 0) reportFailed = 1;
  return { passed: report.numPassedTests ?? 0, failed: reportFailed };
}
