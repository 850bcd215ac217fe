import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { chromium as chromiumTool, describeWithTools } from "@eskit/test-kit/system-tools.js";
import {
  buildConsole,
  launchChromium,
  openConsole,
  startConsoleSystem,
  type ConsoleSystem,
} from "./support/console-harness.js";

describeWithTools([chromiumTool], "the console's shell", () => {
  let built: Awaited<ReturnType<typeof buildConsole>> | undefined;
  let system: ConsoleSystem | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    built = await buildConsole();
    [system, browser] = await Promise.all([startConsoleSystem(built.dir), launchChromium()]);
  });

  afterAll(async () => {
    await browser?.close();
    await system?.stop();
    await built?.remove();
  });

  it("finds the services from config.json and says that the token may read and write at both", async () => {
    const { page, errors } = await openConsole(browser!, system!);
    await expect.poll(() => page.getByText("Event Store: read and write").count()).toBe(1);
    await expect.poll(() => page.getByText("Crud Store: read and write").count()).toBe(1);
    expect(errors).toEqual([]);
  });

  it("moves between every page from the keyboard alone", async () => {
    const { page } = await openConsole(browser!, system!);
    const nav = page.getByRole("navigation", { name: "Pages" });
    for (const name of ["Entities", "Documents", "Consumers", "Access", "Log"]) {
      await nav.getByRole("link", { name }).focus();
      await page.keyboard.press("Enter");
      await expect.poll(() => new URL(page.url()).hash).toBe(`#/${name.toLowerCase()}`);
      expect(await nav.getByRole("link", { name }).getAttribute("aria-current")).toBe("page");
    }
  });

  it("marks a page's link current on the pages under it too", async () => {
    const { page } = await openConsole(browser!, system!, "#/entities/some-originator");
    const nav = page.getByRole("navigation", { name: "Pages" });
    await expect.poll(() => nav.getByRole("link", { name: "Entities" }).getAttribute("aria-current")).toBe("page");
    expect(await nav.getByRole("link", { name: "Log" }).getAttribute("aria-current")).toBeNull();
  });
});
