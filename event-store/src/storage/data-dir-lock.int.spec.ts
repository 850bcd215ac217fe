import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { lockDataDir } from "./data-dir-lock.js";

describe("lockDataDir", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "eskit-lock-"));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("writes this process's pid and removes the lock on release", async () => {
    const release = await lockDataDir(dir);
    expect(await readFile(join(dir, "eskit.lock"), "utf8")).toBe(String(process.pid));
    await release();
    await expect(readFile(join(dir, "eskit.lock"), "utf8")).rejects.toThrow("ENOENT");
  });

  it("refuses a directory locked by a live process, naming it", async () => {
    await writeFile(join(dir, "eskit.lock"), String(process.ppid));
    await expect(lockDataDir(dir)).rejects.toThrow(`is in use by process ${process.ppid}`);
  });

  it("takes over a lock left by a process that died", async () => {
    await writeFile(join(dir, "eskit.lock"), "999999999");
    const release = await lockDataDir(dir);
    expect(await readFile(join(dir, "eskit.lock"), "utf8")).toBe(String(process.pid));
    await release();
  });
});
