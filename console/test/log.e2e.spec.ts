import { expect, it } from "vitest";
import { chromium as chromiumTool, describeWithTools } from "@eskit/test-kit/system-tools.js";
import { entries, following, unique, useLogPage } from "./support/log-page.js";

describeWithTools([chromiumTool], "the console's Log page", () => {
  const { ui, appendTo } = useLogPage();

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
});
