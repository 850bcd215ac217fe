import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildConsole } from "./build-console.js";

// The console's real Vite build, as `make run` and the image's build step run it.

let work = "";

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "eskit-console-build-"));
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe("buildConsole", () => {
  it("builds the page and its hashed assets into the directory it is given, several builds side by side", async () => {
    // Vite's CLI alone would refuse the second while the first runs ("Found another Vite build process").
    const dirs = [join(work, "a"), join(work, "b"), join(work, "c")];
    // Settled, not all: a failed build must not leave the others writing after the test's clean-up.
    const builds = await Promise.allSettled(dirs.map((dir) => buildConsole(dir)));
    expect(builds.map((b) => (b.status === "rejected" ? String(b.reason) : b.status))).toEqual(
      dirs.map(() => "fulfilled"),
    );
    for (const dir of dirs) {
      expect((await readdir(dir)).sort(), dir).toEqual(["assets", "index.html"]);
      const html = await readFile(join(dir, "index.html"), "utf8");
      expect(html).toContain("<title>ESKIT console</title>");
      const assets = await readdir(join(dir, "assets"));
      expect(
        assets.some((name) => /^index-[\w-]+\.js$/u.test(name)),
        assets.join(", "),
      ).toBe(true);
      for (const asset of assets) expect(html, `${dir}: index.html loads ${asset}`).toContain(`./assets/${asset}`);
    }
  }, 60_000);

  it("rejects when its signal aborts the build", async () => {
    const controller = new AbortController();
    const build = buildConsole(join(work, "aborted"), { signal: controller.signal });
    controller.abort();
    await expect(build).rejects.toThrow(/abort/iu);
  });
});
