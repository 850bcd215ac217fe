import { readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * The manual: README.md, then the pages of docs/ in the order README's Documentation section lists them (the order
 * their shell examples run in, each building on the state the earlier ones left).
 */
export const manualPages = [
  "README.md",
  "docs/api.md",
  "docs/consumers.md",
  "docs/guarantees.md",
  "docs/limits-and-access-control.md",
  "docs/console.md",
  "docs/configuration.md",
  "docs/deployment.md",
  "docs/benchmarks.md",
  "docs/layout.md",
] as const;

/** The text of one page of the manual (a path relative to the repository). */
export function manualPage(repoRoot: string, page: (typeof manualPages)[number]): string {
  return readFileSync(join(repoRoot, page), "utf8");
}

/** The configuration table of one service in docs/configuration.md: the lines under its heading, up to the next one. */
export function configSection(markdown: string, service: string): string {
  const start = markdown.indexOf(`\n## ${service}\n`);
  if (start < 0) throw new Error(`docs/configuration.md has no "## ${service}" section`);
  const end = markdown.slice(start + 1).search(/\n#/u);
  return end < 0 ? markdown.slice(start) : markdown.slice(start, start + 1 + end);
}
