import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { itWithTools } from "@eskit/test-kit/system-tools.js";
import { afterAll, describe, expect, it } from "vitest";

// bin/eskit.mjs runs the bundle `npm install` made when it is newer than every source it was made from, and the
// TypeScript sources otherwise. Here the executable is copied into a repository of its own, whose "bundle" and
// "sources" only say which of them ran.
const bin = fileURLToPath(new URL("../bin/eskit.mjs", import.meta.url));
const nodeModules = fileURLToPath(new URL("../../node_modules", import.meta.url));
const root = mkdtempSync(join(tmpdir(), "eskit-bin-"));
mkdirSync(join(root, "cli", "bin"), { recursive: true });
mkdirSync(join(root, "cli", "src"));
mkdirSync(join(root, "cli", "dist"));
symlinkSync(nodeModules, join(root, "node_modules"));
copyFileSync(bin, join(root, "cli", "bin", "eskit.mjs"));
writeFileSync(join(root, "cli", "package.json"), JSON.stringify({ type: "module" }));
const source = join(root, "cli", "src", "main.ts");
const bundle = join(root, "cli", "dist", "eskit.mjs");
const sources = join(root, "cli", "dist", "sources.json");
writeFileSync(
  source,
  'export async function run(args: string[]): Promise<number> { console.log(`sources ${args.join(" ")}`); return 3; }\n',
);
writeFileSync(bundle, 'export async function run(args) { console.log(`bundle ${args.join(" ")}`); return 4; }\n');

function eskit(): { stdout: string; status: number | null } {
  const run = spawnSync(process.execPath, [join(root, "cli", "bin", "eskit.mjs"), "head", "--x"], {
    encoding: "utf8",
    timeout: 20_000,
  });
  return { stdout: run.stdout.trim(), status: run.status };
}

/** Sets a file's modification time to `secondsAgo` before now. */
function age(file: string, secondsAgo: number): void {
  const when = new Date(Date.now() - secondsAgo * 1000);
  utimesSync(file, when, when);
}

describe("the eskit executable", () => {
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("runs the bundle when it is newer than every source it was made from, with the arguments and exit code", () => {
    writeFileSync(sources, JSON.stringify(["cli/src/main.ts"]));
    age(source, 60);
    age(bundle, 10);
    expect(eskit()).toEqual({ stdout: "bundle head --x", status: 4 });
  });

  it("runs the sources when one of them changed after the bundle was made", () => {
    writeFileSync(sources, JSON.stringify(["cli/src/main.ts"]));
    age(bundle, 60);
    age(source, 10);
    expect(eskit()).toEqual({ stdout: "sources head --x", status: 3 });
  });

  it("runs the sources when the bundle's list of sources is missing, empty, or names a file that is gone", () => {
    age(source, 60);
    age(bundle, 10);
    for (const list of [undefined, [], ["cli/src/main.ts", "client/src/gone.ts"]]) {
      rmSync(sources, { force: true });
      if (list !== undefined) writeFileSync(sources, JSON.stringify(list));
      expect(eskit()).toEqual({ stdout: "sources head --x", status: 3 });
    }
  });
});

// The checkout's own bundle, as `npm install` (the root's `prepare`) made it: CI installs afresh, so there it must be
// current and say what the sources say. On a developer's machine an edit since the last install makes it stale (the
// executable then runs the sources), and these tests are skipped, naming the command that bundles it again.
const ownDist = new URL("../dist/", import.meta.url);
const ownRoot = new URL("../../", import.meta.url);

function ownBundleIsCurrent(): boolean {
  try {
    const built = statSync(new URL("eskit.mjs", ownDist)).mtimeMs;
    const list = JSON.parse(readFileSync(new URL("sources.json", ownDist), "utf8")) as string[];
    return list.length > 0 && list.every((path) => statSync(new URL(path, ownRoot)).mtimeMs <= built);
  } catch {
    return false;
  }
}

const currentBundle = { name: "a current bundle of eskit", available: ownBundleIsCurrent(), install: "npm install" };

describe("the checkout's own eskit bundle", () => {
  const runner = join(root, "run-module.mjs");
  writeFileSync(
    runner,
    "const [module, ...args] = process.argv.slice(2);\n" +
      "if (module.endsWith('.ts')) (await import('tsx/esm/api')).register();\n" +
      "process.exitCode = await (await import(module)).run(args);\n",
  );
  const through = (module: URL, args: readonly string[]) =>
    spawnSync(process.execPath, [runner, module.href, ...args], { encoding: "utf8", timeout: 60_000 });

  itWithTools([currentBundle], "lists every source it was made from, and answers as the sources do", () => {
    const list = JSON.parse(readFileSync(new URL("sources.json", ownDist), "utf8")) as string[];
    expect(list).toContain("cli/src/main.ts");
    expect(list).toContain("client/src/index.ts");
    for (const args of [["--help"], ["export", "--help"], ["doc", "--help"], ["completion"], ["nonsense"]]) {
      const fromBundle = through(new URL("eskit.mjs", ownDist), args);
      const fromSources = through(new URL("cli/src/main.ts", ownRoot), args);
      expect({ out: fromBundle.stdout, err: fromBundle.stderr, status: fromBundle.status }).toEqual({
        out: fromSources.stdout,
        err: fromSources.stderr,
        status: fromSources.status,
      });
    }
  });
});
