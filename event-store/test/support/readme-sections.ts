/** The README's configuration table of one service: the lines under its heading, up to the next heading. */
export function configSection(markdown: string, service: string): string {
  const start = markdown.indexOf(`\n### ${service}\n`, markdown.indexOf("\n## Configuration\n"));
  if (start < 0) throw new Error(`README has no "### ${service}" section under "## Configuration"`);
  const end = markdown.slice(start + 1).search(/\n##/u);
  return end < 0 ? markdown.slice(start) : markdown.slice(start, start + 1 + end);
}
