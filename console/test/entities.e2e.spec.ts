import { randomUUID } from "node:crypto";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { chromium as chromiumTool, describeWithTools } from "@eskit/test-kit/system-tools.js";
import { eventStoreApi } from "./support/console-harness.js";
import { useConsole } from "./support/use-console.js";

const patience = { timeout: 10_000 };

describeWithTools([chromiumTool], "the console's Entities page", () => {
  const ui = useConsole();
  let api: ReturnType<typeof eventStoreApi> | undefined;

  beforeAll(async () => {
    api = eventStoreApi(ui.system);
  });

  afterAll(async () => {
    api?.close();
  });

  const timelineOf = (page: Page, id: string) => page.getByRole("list", { name: `Versions of ${id}` });
  const detailOf = (page: Page) => page.getByRole("region", { name: "Selected event" });

  it("shows an originator's versions with their types, and the payload and metadata of the one clicked", async () => {
    const id = `cart-${randomUUID().slice(0, 8)}`;
    await api!.client.appendEvents([
      { originatorId: id, version: 1n, eventType: "Cart.Opened", payload: { user: "u1" } },
      {
        originatorId: id,
        version: 2n,
        eventType: "Cart.ItemAdded",
        payload: { sku: "A-1", qty: 2 },
        metadata: { channel: "web" },
      },
      { originatorId: id, version: 3n, eventType: "Cart.CheckedOut", payload: { total: 42 } },
    ]);
    const written = await api!.client.readEvents(id);
    const { page, errors } = await ui.open(`#/entities/${id}`);
    const timeline = timelineOf(page, id);
    await expect
      .poll(() => timeline.getByRole("button").allTextContents(), patience)
      .toEqual([
        expect.stringMatching(/^Version 1 Cart\.Opened /),
        expect.stringMatching(/^Version 2 Cart\.ItemAdded /),
        expect.stringMatching(/^Version 3 Cart\.CheckedOut /),
      ]);

    await timeline.getByRole("button", { name: /^Version 2 / }).click();
    const detail = detailOf(page);
    await detail.getByRole("heading", { name: "Version 2" }).waitFor();
    expect(await detail.getByLabel("Payload").textContent()).toBe('{\n  "sku": "A-1",\n  "qty": 2\n}');
    expect(await detail.getByLabel("Metadata").textContent()).toBe("channelweb");
    const facts = await detail.locator("dl.facts").first().textContent();
    expect(facts).toContain(`event typeCart.ItemAdded`);
    expect(facts).toContain(`event id${written[1]!.eventId}`);
    expect(facts).toMatch(/occurred on\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/);
    expect(errors).toEqual([]);
  });

  it("selects versions from the keyboard: arrows move between entries, Enter selects", async () => {
    const id = `kbd-${randomUUID().slice(0, 8)}`;
    await api!.client.appendEvents(
      [1, 2, 3].map((n) => ({ originatorId: id, version: BigInt(n), eventType: "Door.Toggled", payload: { n } })),
    );
    const { page } = await ui.open(`#/entities/${id}`);
    const timeline = timelineOf(page, id);
    await timeline.getByRole("button").nth(2).waitFor();
    await timeline.getByRole("button").first().focus();
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("Enter");
    const detail = detailOf(page);
    await detail.getByRole("heading", { name: "Version 3" }).waitFor();
    expect(JSON.parse((await detail.getByLabel("Payload").textContent())!)).toEqual({ n: 3 });
    expect(await timeline.getByRole("button", { name: /^Version 3 / }).getAttribute("aria-current")).toBe("true");
  });

  it("reads 100 versions at a time and shows the rest on Load more", async () => {
    const id = `long-${randomUUID().slice(0, 8)}`;
    await api!.client.appendEvents(
      Array.from({ length: 150 }, (_, i) => ({
        originatorId: id,
        version: BigInt(i + 1),
        eventType: "Meter.Read",
        payload: { reading: i + 1 },
      })),
    );
    const { page } = await ui.open(`#/entities/${id}`);
    const buttons = timelineOf(page, id).getByRole("button");
    await expect.poll(() => buttons.count(), patience).toBe(100);
    expect(await page.getByRole("status").textContent()).toContain("versions 1–100 shown (100)");
    await page.getByRole("button", { name: "Load more" }).click();
    await expect.poll(() => buttons.count(), patience).toBe(150);
    expect(await buttons.last().textContent()).toMatch(/^Version 150 Meter\.Read /);
    expect(await page.getByRole("status").textContent()).toContain("the latest version is shown");
    expect(await page.getByRole("button", { name: "Check for newer versions" }).count()).toBe(1);
  });

  it("opens an id typed into the form by its link, and says not_found for an originator without events", async () => {
    const { page, errors } = await ui.open("#/entities");
    const unknown = `nobody/${randomUUID().slice(0, 8)}`;
    await page.getByLabel("Originator id").fill(unknown);
    await page.getByRole("button", { name: "Show events" }).click();
    await expect.poll(() => new URL(page.url()).hash).toBe(`#/entities/${encodeURIComponent(unknown)}`);
    const alert = page.getByRole("alert");
    await alert.waitFor();
    expect(await alert.textContent()).toBe(`No events shown not_found: originator "${unknown}" has no events`);
    expect(await page.getByRole("heading", { name: "Entities" }).count()).toBe(1);
    expect(errors).toEqual([]);
  });

  it("shows the store's invalid_argument for an originator id longer than it takes", async () => {
    const { page } = await ui.open(`#/entities/${"x".repeat(300)}`);
    const alert = page.getByRole("alert");
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/^No events shown invalid_argument: .*originator_id/);
  });
});
