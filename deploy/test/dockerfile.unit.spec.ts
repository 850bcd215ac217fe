import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { layout } from "../image/bundle.js";
import { repoRoot } from "./support/compose-file.js";
import {
  envOf,
  execForm,
  instructionsOf,
  isIgnored,
  parseDockerfile,
  stageChain,
  workdirOf,
} from "./support/dockerfile.js";
import { allocatorEnv } from "@eskit/server-kit/memory/allocator-env.js";
import { defaultOf, eskitServices, type EskitService } from "./support/services.js";

// The Dockerfile cannot be built here (no Docker engine). These checks read it; deploy/test/image.e2e.spec.ts runs
// its bundle step and starts each target's CMD from the files its COPY instructions lay out.

const dockerfile = parseDockerfile();
const build = dockerfile.stages.find((s) => s.name === "build");
/** Where the build stage's bundle step writes: the argument after deploy/image/bundle.ts. */
const bundleRun = build?.instructions.find((i) => i.keyword === "RUN" && i.args.includes("deploy/image/bundle.ts"));
const outDir = bundleRun?.args.split(/\s+/u).at(-1) ?? "";

describe("Dockerfile", () => {
  it("builds every stage on one current Node.js LTS slim image", () => {
    const image = dockerfile.args["NODE_IMAGE"] ?? "";
    const match = /^node:(\d+)-(bookworm|trixie)-slim$/u.exec(image);
    expect(match, image).not.toBeNull();
    const major = Number(match?.[1]);
    // Even majors become LTS; 22 and 24 are the LTS lines that are maintained now. The code itself needs 20.19+.
    expect(major % 2 === 0 && major >= 22, `node ${major} is a maintained LTS`).toBe(true);
    const stageNames = dockerfile.stages.map((s) => s.name);
    for (const stage of dockerfile.stages) expect([image, ...stageNames], stage.name).toContain(stage.from);
  });

  it("starts every service with the glibc allocator settings `make run` and the tests use", () => {
    for (const service of eskitServices) {
      const env = envOf(instructionsOf(dockerfile, service));
      for (const [name, value] of Object.entries(allocatorEnv)) expect(env[name], `${service} ${name}`).toBe(value);
    }
  });

  it("has one target per service that runs its bundle as the unprivileged node user", () => {
    for (const service of eskitServices) {
      const instructions = instructionsOf(dockerfile, service);
      expect(instructions.filter((i) => i.keyword === "USER").at(-1)?.args, service).toBe("node");
      expect(workdirOf(instructions)).toBe("/app");
      const cmd = instructions.filter((i) => i.keyword === "CMD").at(-1);
      expect(execForm(cmd?.args ?? "null"), service).toEqual(["node", layout.bundle(service)]);
      expect(
        instructions.filter((i) => i.keyword === "ENTRYPOINT"),
        service,
      ).toEqual([]);
      expect(envOf(instructions)["PORT"], service).toBe(defaultOf(service, "PORT"));
      expect(
        instructions.filter((i) => i.keyword === "EXPOSE").map((i) => i.args),
        service,
      ).toEqual([defaultOf(service, "PORT")]);
      expect(envOf(instructions)["NODE_ENV"]).toBe("production");
    }
  });

  it("puts into each service image only the build's shared packages and its bundle (with PGlite beside the Event Store's), plus the Event Store's migrations", () => {
    const copies = (service: string) =>
      instructionsOf(dockerfile, service)
        .filter((i) => i.keyword === "COPY" || i.keyword === "ADD")
        .map((i) => `${i.flags["from"] ?? "(context)"} ${i.args}`);
    const shared = `build ${outDir}/${layout.nodeModules}/ /app/${layout.nodeModules}/`;
    const bundleDir = (service: EskitService) => layout.bundle(service).replace(/main\.mjs$/u, "");
    expect(copies("event-store")).toEqual([
      shared,
      `build ${outDir}/${bundleDir("event-store")} /app/${bundleDir("event-store")}`,
      `build ${outDir}/${layout.migrations}/ /app/${layout.migrations}/`,
    ]);
    expect(layout.serviceModules("event-store").startsWith(bundleDir("event-store"))).toBe(true);
    for (const service of ["crud-store", "metrics-consumer", "jetstream-bridge"] as const) {
      expect(copies(service)).toEqual([shared, `build ${outDir}/${bundleDir(service)} /app/${bundleDir(service)}`]);
    }
    // Nothing is installed in the service images: no npm, no apt.
    for (const service of eskitServices) {
      const chain = stageChain(dockerfile, service).filter((s) => s.name !== "build");
      expect(
        chain.flatMap((s) => s.instructions).filter((i) => i.keyword === "RUN"),
        service,
      ).toEqual([]);
    }
  });

  it("installs the build's dependencies from the lock file, every workspace's manifest first", () => {
    const instructions = build?.instructions ?? [];
    const workspaces = (JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { workspaces: string[] })
      .workspaces;
    const npmCi = instructions.findIndex((i) => i.keyword === "RUN" && /^npm ci\b/u.test(i.args));
    expect(npmCi).toBeGreaterThan(0);
    const before = instructions
      .slice(0, npmCi)
      .filter((i) => i.keyword === "COPY")
      .map((i) => i.args);
    expect(before[0]).toBe("package.json package-lock.json .npmrc ./");
    for (const workspace of workspaces) expect(before, workspace).toContain(`${workspace}/package.json ${workspace}/`);
    expect(bundleRun?.args).toBe(`node --import tsx deploy/image/bundle.ts ${outDir}`);
    expect(outDir).toMatch(/^\/\w+$/u);
  });

  it("copies from the build context only files that exist and that .dockerignore lets through", () => {
    const sources = (build?.instructions ?? [])
      .filter((i) => i.keyword === "COPY" && i.flags["from"] === undefined)
      .flatMap((i) => i.args.split(/\s+/u).slice(0, -1));
    expect(sources.length).toBeGreaterThan(1);
    for (const source of sources) {
      if (source === ".") continue;
      expect(existsSync(join(repoRoot, source)), source).toBe(true);
      expect(isIgnored(source), `${source} reaches the build`).toBe(false);
    }
    // What the bundle step reads reaches the build; a host's node_modules and databases never do.
    for (const needed of [
      "tsconfig.json",
      "deploy/image/bundle.ts",
      "event-store/migrations/meta/_journal.json",
      "gen/src",
      "client/src",
      "console/index.html",
      "console/vite.config.ts",
      "console/build/bundle-budget.ts",
      "console/src/main.tsx",
      "console/server/main.ts",
    ]) {
      expect(isIgnored(needed), needed).toBe(false);
    }
    for (const kept of [
      "node_modules",
      "event-store/node_modules/x",
      "data",
      "event-store/data/PG_VERSION",
      ".git/HEAD",
      ".tmp/vitest.json",
      "console/dist/index.html",
      "console/node_modules/.vite-temp/x.mjs",
    ]) {
      expect(isIgnored(kept), kept).toBe(true);
    }
  });

  it("checks the health of each service at /healthz on the port it listens on", () => {
    for (const service of eskitServices) {
      const healthcheck = instructionsOf(dockerfile, service)
        .filter((i) => i.keyword === "HEALTHCHECK")
        .at(-1);
      const [node, flag, script] = execForm(healthcheck?.args ?? "null");
      expect([node, flag]).toEqual(["node", "-e"]);
      expect(script).toContain("fetch('http://127.0.0.1:'+process.env.PORT+'/healthz')");
    }
  });

  it("has a console target that runs the console server's bundle as the node user, over the console's built files", () => {
    const instructions = instructionsOf(dockerfile, "console");
    expect(instructions.filter((i) => i.keyword === "USER").at(-1)?.args).toBe("node");
    expect(workdirOf(instructions)).toBe("/app");
    expect(execForm(instructions.filter((i) => i.keyword === "CMD").at(-1)?.args ?? "null")).toEqual([
      "node",
      layout.consoleBundle,
    ]);
    expect(instructions.filter((i) => i.keyword === "ENTRYPOINT")).toEqual([]);
    const env = envOf(instructions);
    expect(env["NODE_ENV"]).toBe("production");
    expect(env["PORT"]).toBe(defaultOf("console", "PORT"));
    expect(instructions.filter((i) => i.keyword === "EXPOSE").map((i) => i.args)).toEqual([
      defaultOf("console", "PORT"),
    ]);
    // The files where the server looks: set, and the default from the working directory too.
    expect(env["CONSOLE_ROOT"]).toBe(`/app/${layout.consoleFiles}`);
    expect(`${workdirOf(instructions)}/${defaultOf("console", "CONSOLE_ROOT")}`).toBe(env["CONSOLE_ROOT"]);
  });

  it("puts into the console image only the console's server bundle and its static files: no packages, nothing installed", () => {
    const copies = instructionsOf(dockerfile, "console")
      .filter((i) => i.keyword === "COPY" || i.keyword === "ADD")
      .map((i) => `${i.flags["from"] ?? "(context)"} ${i.args}`);
    const consoleDir = layout.consoleBundle.split("/")[0];
    expect(copies).toEqual([`build ${outDir}/${consoleDir}/ /app/${consoleDir}/`]);
    expect(layout.consoleFiles.startsWith(`${consoleDir}/`)).toBe(true);
    const chain = stageChain(dockerfile, "console").filter((s) => s.name !== "build");
    expect(chain.flatMap((s) => s.instructions).filter((i) => i.keyword === "RUN")).toEqual([]);
    expect(chain.map((s) => s.name)).not.toContain("runtime");
  });

  it("checks the console's health at /healthz on the port it listens on", () => {
    const healthcheck = instructionsOf(dockerfile, "console")
      .filter((i) => i.keyword === "HEALTHCHECK")
      .at(-1);
    const [node, flag, script] = execForm(healthcheck?.args ?? "null");
    expect([node, flag]).toEqual(["node", "-e"]);
    expect(script).toContain("fetch('http://127.0.0.1:'+process.env.PORT+'/healthz')");
  });
});
