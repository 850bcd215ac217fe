import { expect, it } from "vitest";
import { chromium as chromiumTool, describeWithTools } from "@eskit/test-kit/system-tools.js";
import { useConsole } from "./support/use-console.js";

describeWithTools([chromiumTool], "the console's shell", () => {
  const ui = useConsole();

  it("finds the services from config.json and says that the token may read and write at both", async () => {
    const { page, errors } = await ui.open();
    await expect.poll(() => page.getByText("Event Store: read and write").count()).toBe(1);
    await expect.poll(() => page.getByText("Crud Store: read and write").count()).toBe(1);
    expect(errors).toEqual([]);
  });

  it("moves between every page from the keyboard alone", async () => {
    const { page } = await ui.open();
    const nav = page.getByRole("navigation", { name: "Pages" });
    for (const name of ["Entities", "Documents", "Consumers", "Access", "Log"]) {
      await nav.getByRole("link", { name }).focus();
      await page.keyboard.press("Enter");
      await expect.poll(() => new URL(page.url()).hash).toBe(`#/${name.toLowerCase()}`);
      expect(await nav.getByRole("link", { name }).getAttribute("aria-current")).toBe("page");
    }
  });

  it("marks a page's link current on the pages under it too", async () => {
    const { page } = await ui.open("#/entities/some-originator");
    const nav = page.getByRole("navigation", { name: "Pages" });
    await expect.poll(() => nav.getByRole("link", { name: "Entities" }).getAttribute("aria-current")).toBe("page");
    expect(await nav.getByRole("link", { name: "Log" }).getAttribute("aria-current")).toBeNull();
  });
});
