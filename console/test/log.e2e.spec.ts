import { randomUUID } from "node:crypto";
import type { EventStoreClient } from "@eskit/client";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { chromium as chromiumTool, describeWithTools } from "@eskit/test-kit/system-tools.js";
import { eventStoreApi } from "./support/console-harness.js";
import { useConsole } from "./support/use-console.js";

const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

describeWithTools([chromiumTool], "the console's Log page", () => {
  const ui = useConsole();
  let api: { client: EventStoreClient; close(): void } | undefined;

  beforeAll(async () => {
    api = eventStoreApi(ui.system);
  });

  afterAll(async () => {
    api?.close();
  });

  const entries = (page: Page) => page.getByRole("listbox", { name: "Log entries" });
  const following = (page: Page) =>
    expect.poll(() => page.getByRole("status").textContent()).toMatch(/^following live/);

  /** Appends `count` events to a new originator, one Append; answers their log ids. */
  async function appendTo(originatorId: string, count: number, eventType = "Order.Placed"): Promise<bigint[]> {
    const events = Array.from({ length: count }, (_, i) => ({
      originatorId,
      version: BigInt(i + 1),
      eventType,
      payload: { n: i + 1, note: "héllo" },
      metadata: { source: "log-test" },
    }));
    return api!.client.appendEvents(events);
  }

  it("shows an event appended through the API in the live tail within a second, and its event in full on click", async () => {
    const { page, errors } = await ui.open();
    await following(page);
    const originatorId = unique("live");
    const [logId] = await appendTo(originatorId, 1);
    const answered = Date.now();
    const row = entries(page).getByRole("option", { name: new RegExp(originatorId) });
    await row.waitFor({ timeout: 1000 });
    expect(Date.now() - answered).toBeLessThan(1000);

    await row.click();
    const detail = page.getByRole("region", { name: "Selected entry" });
    await expect.poll(() => detail.getByRole("heading").first().textContent()).toBe(`Entry ${logId}`);
    const payload = await detail.getByLabel("Payload").textContent();
    expect(JSON.parse(payload!)).toEqual({ n: 1, note: "héllo" });
    expect(payload).toContain('\n  "n": 1'); // pretty-printed
    expect(await detail.textContent()).toContain("source");
    expect(errors).toEqual([]);
  });

  it("follows only what the selector names, from the beginning when asked", async () => {
    const { page } = await ui.open();
    await following(page);
    const invoice = unique("inv");
    await appendTo(invoice, 2, "Invoice.Sent");
    await appendTo(unique("ord"), 2, "Order.Placed");
    await page.getByLabel("Selector").fill("Invoice.*");
    await page.getByLabel("Start at").selectOption("beginning");
    await page.getByRole("button", { name: "Restart" }).click();
    // The list held the live entries of every type before the restart: wait for it to hold only the selector's.
    const shown = () => entries(page).getByRole("option").allTextContents();
    await expect.poll(async () => (await shown()).filter((text) => !text.includes("Invoice.Sent"))).toEqual([]);
    await expect
      .poll(async () => (await shown()).filter((text) => text.includes(invoice)))
      .toEqual([expect.stringMatching(/^\d+Invoice\.Sent.*v1$/), expect.stringMatching(/^\d+Invoice\.Sent.*v2$/)]);
  });

  it("refuses a start id that is not a log id at its field, and keeps following as before", async () => {
    const { page } = await ui.open();
    await following(page);
    await page.getByLabel("Start at").selectOption("id");
    await page.getByLabel("Log id", { exact: true }).fill("0");
    await page.getByRole("button", { name: "Restart" }).click();
    expect(await page.getByLabel("Log id", { exact: true }).getAttribute("aria-invalid")).toBe("true");
    expect(await page.getByText("log ids start at 1").count()).toBe(1);
    expect(await page.getByRole("status").textContent()).toMatch(/^following live/);
  });

  it("shows a selector the store refuses with its code and message", async () => {
    const { page } = await ui.open();
    await following(page);
    await page.getByLabel("Selector").fill("not a selector!");
    await page.getByRole("button", { name: "Restart" }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/invalid_argument: .+/);
  });

  it("skips nothing and shows nothing twice across a pause: what arrived meanwhile comes on resume, in order", async () => {
    const { page } = await ui.open();
    await following(page);
    const before = unique("pause");
    await appendTo(before, 1);
    await entries(page)
      .getByRole("option", { name: new RegExp(before) })
      .waitFor();
    await page.getByRole("button", { name: "Pause" }).click();
    await expect.poll(() => page.getByRole("status").textContent()).toMatch(/^paused/);
    const during = unique("pause");
    const ids = await appendTo(during, 3);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(
      await entries(page)
        .getByRole("option", { name: new RegExp(during) })
        .count(),
    ).toBe(0);

    await page.getByRole("button", { name: "Resume" }).click();
    await expect
      .poll(() =>
        entries(page)
          .getByRole("option", { name: new RegExp(during) })
          .count(),
      )
      .toBe(3);
    const shown = (await entries(page).getByRole("option").allTextContents()).map((text) => text.match(/^\d+/)![0]);
    expect(shown.slice(-3)).toEqual(ids.map(String));
    expect(new Set(shown).size).toBe(shown.length);
  });

  // Its own timeout, 60 s: a second of idle frames and five of flood, then up to 10 s for the last entry to show, on a
  // machine that may be slow (the suite's default would leave too little).
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
    // Measured here: p95 33–50 ms against 17 ms idle, a click answered in 100–140 ms. Under CI load (other suites, and
    // this test's own Event Store taking 2,000 appends a second) the p95 reached 166 ms. The bound, 250 ms or 4 times
    // the idle p95, leaves room for that and still fails a page that renders every entry: with the list's windowing
    // removed, the p95 was 1,067 ms (idle 33 ms) and the click took 4.5 s.
    expect(stats.p95).toBeLessThanOrEqual(Math.max(250, 4 * idle.p95));
    expect(clickLatencyMs).toBeLessThanOrEqual(1000);
    expect(errors).toEqual([]);
  }, 60_000);
});
