import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * The import rules that keep the cores free of the wire: a domain or core folder never imports Connect, the
 * generated code, protobuf or SQL, and its relative imports point inward only (never to the gateway, the RPC edge,
 * the v1 compatibility edge or the wiring). Read from the source text, so a rule broken anywhere fails here.
 */

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** The wire and the database: what no core may import. */
const wirePackages = [/^@connectrpc\//u, /^@eskit\/gen(\/|$)/u, /^@bufbuild\//u];
const sqlPackages = [/^drizzle-orm(\/|$)/u, /^postgres$/u, /^@electric-sql\//u];

interface Rule {
  /** A folder, relative to the repository. */
  readonly folder: string;
  /** Packages it must not import. */
  readonly forbidden: readonly RegExp[];
  /** The folders its relative imports may reach; undefined = anywhere in its package. */
  readonly inward?: readonly string[];
  /** Whether the rule holds for the tests in the folder too (default), or for the code the package ships only. */
  readonly tests?: boolean;
}

const rules: readonly Rule[] = [
  { folder: "crud-store/src/domain", forbidden: wirePackages, inward: ["crud-store/src/domain"] },
  ...["store", "registry"].map((core) => ({
    folder: `crud-store/src/${core}`,
    forbidden: wirePackages,
    inward: ["crud-store/src/domain", "crud-store/src/store", "crud-store/src/registry"],
  })),
  {
    folder: "event-store/src/domain",
    forbidden: [...wirePackages, ...sqlPackages],
    inward: ["event-store/src/domain"],
  },
  // Shared code knows no one who uses it: no service, no client, and of the generated code only the health service
  // it serves itself. Each service hands server-kit what is its own (its access table, its error mapping).
  {
    folder: "server-kit/src",
    forbidden: [
      /^@eskit\/(event-store|crud-store|metrics-consumer|client)(\/|$)/u,
      /^@eskit\/gen\/(?!grpc\/health\/)/u,
    ],
    tests: false,
  },
];

/** Every module specifier of a source text: static imports and re-exports, side-effect and dynamic imports. */
function importsOf(source: string): string[] {
  const specifiers = /(?:\bfrom\s*|\bimport\s*\(?\s*)["']([^"']+)["']/gu;
  return [...source.matchAll(specifiers)].map((m) => m[1]!);
}

function sourcesUnder(folder: string): string[] {
  return readdirSync(join(repo, folder), { recursive: true, encoding: "utf8" })
    .filter((name) => name.endsWith(".ts"))
    .map((name) => join(folder, name));
}

/** The test support folder of the package `folder` belongs to, e.g. crud-store/test/support. */
function testSupportOf(folder: string): string {
  return `${folder.split("/")[0]}/test/support`;
}

/** The imports of `file` that break `rule`, as "file → specifier". */
function violations(rule: Rule, file: string): string[] {
  if (rule.tests === false && file.endsWith(".spec.ts")) return [];
  return importsOf(readFileSync(join(repo, file), "utf8"))
    .filter((specifier) => {
      if (specifier.startsWith(".")) {
        if (rule.inward === undefined) return false;
        const target = relative(repo, resolve(join(repo, dirname(file)), specifier));
        // A unit test beside the core may also use the package's test support (the in-memory Event Store).
        const reach = file.endsWith(".spec.ts") ? [...rule.inward, testSupportOf(rule.folder)] : rule.inward;
        return !reach.some((folder) => target.startsWith(`${folder}/`));
      }
      return rule.forbidden.some((pattern) => pattern.test(specifier));
    })
    .map((specifier) => `${file} → ${specifier}`);
}

/** The workspaces (and deploy/, whose tests check the whole system) whose tests the package rule covers. */
const packages = ["event-store", "crud-store", "metrics-consumer", "client", "server-kit", "test-kit", "deploy"];

/** The relative imports of a package's tests that leave the package: another package is reached by its name. */
function testImportsLeaving(pkg: string): string[] {
  return sourcesUnder(pkg)
    .filter((file) => file.endsWith(".spec.ts") || file.startsWith(`${pkg}/test/`) || file.startsWith("test-kit/"))
    .flatMap((file) =>
      importsOf(readFileSync(join(repo, file), "utf8"))
        .filter((specifier) => specifier.startsWith("."))
        .filter((specifier) => !relative(repo, resolve(join(repo, dirname(file)), specifier)).startsWith(`${pkg}/`))
        .map((specifier) => `${file} → ${specifier}`),
    );
}

describe("import rules", () => {
  it("finds every kind of import in a source text", () => {
    const source = [
      'import { Code } from "@connectrpc/connect";',
      'import type { Event } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";',
      "import {\n  a,\n  b,\n} from '../gateway/event-store-gateway.js';",
      'export { x } from "./x.js";',
      'import "./side-effect.js";',
      'const m = await import("drizzle-orm");',
    ].join("\n");
    expect(importsOf(source)).toEqual([
      "@connectrpc/connect",
      "@eskit/gen/eskit/eventstore/v1/event_pb.js",
      "../gateway/event-store-gateway.js",
      "./x.js",
      "./side-effect.js",
      "drizzle-orm",
    ]);
  });

  it("no test reaches into another package by a relative path: it uses the package by name, or the test kit", () => {
    expect(packages.flatMap(testImportsLeaving)).toEqual([]);
  });

  for (const rule of rules) {
    it(`${rule.folder} imports none of ${rule.forbidden.map(String).join(", ")}${rule.inward ? ", nor an outer layer" : ""}`, () => {
      const files = sourcesUnder(rule.folder);
      // A rule over no files would pass whatever the code: each folder has sources.
      expect(files.filter((f) => !f.endsWith(".spec.ts")).length).toBeGreaterThanOrEqual(2);
      expect(files.flatMap((file) => violations(rule, file))).toEqual([]);
    });
  }
});
