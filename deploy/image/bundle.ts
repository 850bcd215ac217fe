// Builds what the Docker image runs (the Dockerfile's build stage calls it): each service bundled by esbuild into
// one ES module with all of its dependencies, so the final image needs no node_modules, no TypeScript and no tsx.
// Three things cannot live inside a bundle and are laid out beside the bundles, where the code looks for them:
// - PGlite loads its WASM and data files relative to its own module: it stays a package, in the Event Store's
//   services/event-store/node_modules/.
// - koffi (which every service uses to trim its C heap after a crowd of clients leaves) loads its native binary from
//   the package beside it: both stay packages, in the node_modules/ that every image holds.
// - The Event Store reads its SQL migrations at start-up from `../../migrations` relative to the module of
//   event-store/src/storage/database.ts; in the bundle that module is services/event-store/main.mjs.
// The console's image gets its server bundled the same way (console/server/main.ts, which needs no package beside
// it) and the console's static files, built by Vite as `make run` builds them, in console/dist/: where the server
// looks by default from the image's working directory.
// Usage: node --import tsx deploy/image/bundle.ts <out-dir>
import { cp, mkdir, readFile, rm } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { buildConsole } from "../../console/server/build-console.js";

/** The services of the image, each built from `<name>/src/main.ts`. */
export const services = ["event-store", "crud-store", "metrics-consumer", "jetstream-bridge"] as const;
export type ServiceName = (typeof services)[number];

/**
 * Packages left out of the bundles and copied as they are (they load files relative to their own modules): those
 * every service imports, and those of one service alone.
 */
const externalPackages = {
  shared: ["koffi", `@koromix/koffi-${process.platform}-${process.arch}`],
  "event-store": ["@electric-sql/pglite"],
} as const satisfies { shared: readonly string[] } & Partial<Record<ServiceName, readonly string[]>>;

/** Where each part lands in the output directory (the image's /app), relative to it. */
export const layout = {
  bundle: (service: ServiceName) => `services/${service}/main.mjs`,
  /** What database.ts's `new URL("../../migrations", import.meta.url)` names from the Event Store's bundle. */
  migrations: "migrations",
  /** The packages every service imports, found from each bundle by Node's lookup up the tree. */
  nodeModules: "node_modules",
  /** The packages of one service alone, beside its bundle. */
  serviceModules: (service: ServiceName) => `services/${service}/node_modules`,
  /** The console server's bundle. */
  consoleBundle: "console/main.mjs",
  /** The console's static files (vite build's output), its server's default CONSOLE_ROOT from /app. */
  consoleFiles: "console/dist",
} as const;

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

// ES modules have no `require`; the CommonJS packages inside the bundles (prom-client, ...) call it for Node's
// built-in modules, so each bundle gets one.
const requireShim =
  "import { createRequire as __eskitCreateRequire } from 'node:module'; const require = __eskitCreateRequire(import.meta.url);";

/**
 * Writes the services' bundles, the migrations and the external packages under `outDir` (emptied first), then the
 * console's server bundle and static files. Returns the absolute path of each service's bundle.
 */
export async function bundleServices(outDir: string): Promise<Record<ServiceName, string>> {
  outDir = resolve(outDir);
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const result = await build({
    absWorkingDir: repoRoot,
    entryPoints: {
      ...Object.fromEntries(services.map((s) => [layout.bundle(s).replace(/\.mjs$/u, ""), `${s}/src/main.ts`])),
      [layout.consoleBundle.replace(/\.mjs$/u, "")]: "console/server/main.ts",
    },
    outdir: outDir,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20.19",
    external: Object.values(externalPackages).flat(),
    banner: { js: requireShim },
    keepNames: true,
    legalComments: "none",
    logLevel: "silent",
  });
  if (result.warnings.length > 0) {
    throw new Error(
      `esbuild warnings:\n${result.warnings.map((w) => `  ${w.text} (${w.location?.file ?? "?"})`).join("\n")}`,
    );
  }
  // The path as the bundled code resolves it, so that moving the bundle cannot silently lose the migrations.
  const migrations = fileURLToPath(
    new URL("../../migrations", pathToFileURL(join(outDir, layout.bundle("event-store")))),
  );
  if (migrations !== join(outDir, layout.migrations))
    throw new Error(`the Event Store's bundle would read its migrations from ${migrations}`);
  await cp(join(repoRoot, "event-store/migrations"), migrations, { recursive: true });
  for (const [owner, names] of Object.entries(externalPackages)) {
    const modules = owner === "shared" ? layout.nodeModules : layout.serviceModules(owner as ServiceName);
    for (const name of names) await cp(await packageDir(name), join(outDir, modules, name), { recursive: true });
  }
  await buildConsole(join(outDir, layout.consoleFiles));
  return Object.fromEntries(services.map((s) => [s, join(outDir, layout.bundle(s))])) as Record<ServiceName, string>;
}

/** The directory of an installed package, found from its entry point (its exports may hide package.json). */
async function packageDir(name: string): Promise<string> {
  let dir = dirname(fileURLToPath(import.meta.resolve(name)));
  for (; dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = await readFile(join(dir, "package.json"), "utf8").catch(() => undefined);
    if (manifest !== undefined && (JSON.parse(manifest) as { name?: string }).name === name) return dir;
  }
  throw new Error(`package ${name} not found`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const outDir = process.argv[2];
  if (outDir === undefined) {
    process.stderr.write("usage: node --import tsx deploy/image/bundle.ts <out-dir>\n");
    process.exit(2);
  }
  const bundles = await bundleServices(outDir);
  for (const [service, path] of Object.entries(bundles)) process.stdout.write(`${service}: ${path}\n`);
  process.stdout.write(`console: ${join(resolve(outDir), layout.consoleBundle)} (files in ${layout.consoleFiles}/)\n`);
}
