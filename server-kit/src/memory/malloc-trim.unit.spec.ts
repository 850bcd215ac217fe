import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { loadMallocTrim } from "./malloc-trim.js";

const MiB = 1024 * 1024;
const glibc =
  process.platform === "linux" &&
  typeof (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime ===
    "string";

function collector(): () => void {
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
}

describe("loadMallocTrim", () => {
  it.runIf(glibc)(
    "gives back freed C heap that a live allocation above it pins (glibc's own trimming keeps it)",
    async () => {
      const trim = await loadMallocTrim();
      expect(trim).toBeTypeOf("function");
      const gc = collector();
      // 192 MiB in 64 KiB buffers (below glibc's mmap threshold: they come from the heap), of which one in 32 stays
      // alive, as a pooled connection's read buffer does in a server: glibc can give back no more than what lies
      // above the last of them.
      let crowd: Buffer[] = Array.from({ length: 3072 }, (_, i) => Buffer.alloc(64 * 1024, i % 32 === 31 ? 2 : 1));
      const pinners = crowd.filter((_, i) => i % 32 === 31);
      crowd = [];
      for (let i = 0; i < 3; i++) {
        gc();
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const before = process.memoryUsage.rss();
      const released = trim!();
      const after = process.memoryUsage.rss();
      expect(released).toBe(true);
      expect(before - after, `RSS ${before / MiB} MiB before the trim, ${after / MiB} MiB after`).toBeGreaterThan(
        100 * MiB,
      );
      expect(pinners.every((b) => b.every((byte) => byte === 2))).toBe(true);
      expect(crowd).toEqual([]);
    },
  );

  it.skipIf(glibc)("is undefined where the C library is not glibc", async () => {
    expect(await loadMallocTrim()).toBeUndefined();
  });

  it("loads once: every call gets the same function", async () => {
    expect(await loadMallocTrim()).toBe(await loadMallocTrim());
  });
});
