#!/usr/bin/env node
// The `eskit` command: the bundle `npm install` made (cli/scripts/bundle.mjs), which starts in about 0.1 s, unless a
// source it was made from changed since (or there is none): then the TypeScript sources, through tsx, as the services
// run (`node --import tsx`).
import { readFileSync, statSync } from "node:fs";

const dist = new URL("../dist/", import.meta.url);
const { run } = bundleIsCurrent() ? await import(new URL("eskit.mjs", dist).href) : await fromSources();
process.exitCode = await run(process.argv.slice(2));

/** Whether dist/eskit.mjs is newer than every file of the repository it was made from. */
function bundleIsCurrent() {
  try {
    const built = statSync(new URL("eskit.mjs", dist)).mtimeMs;
    const root = new URL("../../", import.meta.url);
    const sources = JSON.parse(readFileSync(new URL("sources.json", dist), "utf8"));
    return sources.length > 0 && sources.every((path) => statSync(new URL(path, root)).mtimeMs <= built);
  } catch {
    return false;
  }
}

async function fromSources() {
  const { register } = await import("tsx/esm/api");
  register();
  return import("../src/main.ts");
}
