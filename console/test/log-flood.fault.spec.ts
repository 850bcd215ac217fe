/**
 * The console's Log page under a flood: 10,000 entries at 2,000 a second, while its frames are timed in the page. It
 * measures how fast the page draws, so it sits in the fault tier and runs alone: beside another end-to-end file on CI's
 * two cores, its browser's frames waited for the CPU and the p95 measured the machine, not the page (400 ms, once).
 */
import { expect, it } from "vitest";
import { chromium as chromiumTool, describeWithTools } from "@eskit/test-kit/system-tools.js";
import { entries, following, unique, useLogPage } from "./support/log-page.js";

describeWithTools([chromiumTool], "the console's Log page under a flood", () => {
  const { ui, appendTo } = useLogPage();

  it("stays responsive with 10,000 entries arriving at 2,000 a second, holding a bounded number of rows", async () => {
    const { page, errors } = await ui.open();
    await following(page);
    // Frame intervals and long tasks, measured in the page while the entries arrive.
    await page.evaluate(() => {
      const w = window as unknown as { frames: number[]; longTasks: number[]; stop: boolean };
      w.frames = [];
      w.longTasks = [];
      w.stop = false;
      new PerformanceObserver((list) => list.getEntries().forEach((e) => w.longTasks.push(e.duration))).observe({
        type: "longtask",
      });
      let last = performance.now();
      const tick = (now: number) => {
        w.frames.push(now - last);
        last = now;
        if (!w.stop) requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });

    // The same page's frames with nothing arriving, for one second: how fast this machine draws right now.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const idle = await page.evaluate(() => {
      const w = window as unknown as { frames: number[] };
      const sorted = w.frames.splice(0).sort((a, b) => a - b);
      return { frames: sorted.length, p95: sorted[Math.floor(sorted.length * 0.95)]! };
    });

    const batches = 100;
    const perBatch = 100;
    let lastId = 0n;
    const started = Date.now();
    let clickLatencyMs = Number.NaN;
    for (let batch = 0; batch < batches; batch++) {
      const ids = await appendTo(unique("flood"), perBatch);
      lastId = ids.at(-1)!;
      if (batch === batches / 2) {
        // Halfway through the flood a person clicks a row: its event must show promptly.
        const clickedAt = Date.now();
        // The rows move as entries arrive, so the click does not wait for them to stand still.
        await entries(page).getByRole("option").last().click({ force: true });
        const detail = page.getByRole("region", { name: "Selected entry" });
        await detail.getByRole("heading", { name: /^Entry \d+$/ }).waitFor();
        clickLatencyMs = Date.now() - clickedAt;
      }
      // 2,000 entries a second: one batch of 100 every 50 ms.
      const due = started + ((batch + 1) * 1000 * perBatch) / 2000;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now())));
    }
    await expect.poll(() => page.getByRole("status").textContent(), { timeout: 10_000 }).toContain(`last id ${lastId}`);
    const stats = await page.evaluate(() => {
      const w = window as unknown as { frames: number[]; longTasks: number[]; stop: boolean };
      w.stop = true;
      const sorted = [...w.frames].sort((a, b) => a - b);
      return {
        frames: sorted.length,
        p95: sorted[Math.floor(sorted.length * 0.95)]!,
        max: sorted.at(-1)!,
        longTaskMs: w.longTasks.reduce((a, b) => a + b, 0),
        rows: document.querySelectorAll("[role=option]").length,
      };
    });
    const status = (await page.getByRole("status").textContent())!;
    console.log(JSON.stringify({ ...stats, idle, clickLatencyMs, seconds: (Date.now() - started) / 1000, status }));
    expect(status).toContain("10,000 held (at most 10,000");
    expect(stats.rows).toBeLessThan(100);
    // Measured here: p95 33–50 ms against 17 ms idle, a click answered in 100–140 ms. With this test's own Event Store
    // taking 2,000 appends a second on the same cores the p95 reached 166 ms. The bound, 250 ms or 4 times the idle
    // p95, leaves room for that and still fails a page that renders every entry: with the list's windowing removed,
    // the p95 was 1,067 ms (idle 33 ms) and the click took 4.5 s.
    expect(stats.p95).toBeLessThanOrEqual(Math.max(250, 4 * idle.p95));
    expect(clickLatencyMs).toBeLessThanOrEqual(1000);
    expect(errors).toEqual([]);
  }, 60_000);
});
