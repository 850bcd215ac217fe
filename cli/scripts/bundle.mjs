// Bundles the `eskit` command into cli/dist/eskit.mjs (run by `npm install` / `npm ci`, the root's `prepare`): one
// file of plain JavaScript starts in about 0.2 s, where the TypeScript sources through tsx take 0.5-1 s on every
// command. Beside it, dist/sources.json lists the repository's files the bundle was made from, so that bin/eskit.mjs
// can tell a bundle older than the sources (a checkout or an edit since) and run the sources instead.
import { existsSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const dist = new URL("../dist/", import.meta.url);

if (!existsSync(new URL("../src/main.ts", import.meta.url))) {
  // Only the manifests are there (the Dockerfile's install step): nothing to bundle.
  console.warn("cli: no sources to bundle");
  process.exit(0);
}

let esbuild;
try {
  esbuild = await import("esbuild");
} catch {
  // An install without dev dependencies: bin/eskit.mjs runs the sources.
  console.warn("cli: esbuild is not installed; eskit will run from its TypeScript sources");
  process.exit(0);
}

let result;
try {
  result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: ["cli/src/main.ts"],
    outfile: fileURLToPath(new URL("eskit.mjs", dist)),
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    metafile: true,
    logLevel: "warning",
    // CommonJS dependencies (cli-table3 and its colours, cli-progress) require() Node's modules; an ES module has no require.
    banner: {
      js: 'import { createRequire as eskitCreateRequire } from "node:module";\nconst require = eskitCreateRequire(import.meta.url);',
    },
  });
} catch (error) {
  // Not worth failing an install for: without a bundle, bin/eskit.mjs runs the sources (the CI's test of the
  // executable then fails, naming this).
  console.warn(`cli: could not bundle eskit (${error.message}); it will run from its TypeScript sources`);
  await rm(dist, { recursive: true, force: true });
  process.exit(0);
}
const sources = Object.keys(result.metafile.inputs).filter((path) => !path.includes("node_modules/"));
await mkdir(dist, { recursive: true });
await writeFile(new URL("sources.json", dist), `${JSON.stringify(sources)}\n`);
