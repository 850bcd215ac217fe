import { randomUUID } from "node:crypto";
import type { Page } from "playwright-core";
import { expect, it } from "vitest";
import { freePort } from "@eskit/test-kit/event-store.js";
import { chromium as chromiumTool, describeWithTools } from "@eskit/test-kit/system-tools.js";
import { useConsole } from "./support/use-console.js";

const tokens = { full: "full-token-for-console-tests", read: "read-token-for-console-tests" };
const patience = { timeout: 10_000 };

describeWithTools([chromiumTool], "the console's Access page", () => {
  const ui = useConsole(tokens);

  /** What the header says for both services, e.g. ["Event Store: read-only", "Crud Store: read-only"]. */
  const header = (page: Page) =>
    page
      .getByRole("banner")
      .getByText(/^(Event|Crud) Store: /)
      .allTextContents();
  /** Access and why, for one service, as the page's table says them. */
  const accessOf = async (page: Page, service: string) => {
    const row = page
      .getByRole("table", { name: "What the token may do" })
      .getByRole("row")
      .filter({ has: page.getByRole("rowheader", { name: service }) });
    const cells = await row.getByRole("cell").allTextContents();
    return { access: cells[1], why: cells[2] };
  };

  async function apply(page: Page, change: { token?: string; eventStoreUrl?: string }): Promise<void> {
    if (change.eventStoreUrl !== undefined) await page.getByLabel("Event Store URL").fill(change.eventStoreUrl);
    if (change.token !== undefined) await page.getByLabel("Token", { exact: true }).fill(change.token);
    await page.getByRole("button", { name: "Apply" }).click();
  }

  it("with a read token, says both services are read-only and why writes are off, and keeps it for the tab", async () => {
    const { page, errors } = await ui.open("#/access");
    await apply(page, { token: tokens.read });
    await expect.poll(() => header(page), patience).toEqual(["Event Store: read-only", "Crud Store: read-only"]);
    const why = "writes disabled: the token may only read: writes need a full token (ESKIT_AUTH_TOKENS)";
    expect(await accessOf(page, "Event Store")).toEqual({ access: "read-only", why });
    expect(await accessOf(page, "Crud Store")).toEqual({ access: "read-only", why });

    const token = page.getByLabel("Token", { exact: true });
    expect(await token.getAttribute("type")).toBe("password");
    expect(await page.getByText("Kept for this tab only (sessionStorage)").count()).toBe(1);
    await page.reload();
    expect(await page.getByLabel("Token", { exact: true }).inputValue()).toBe(tokens.read);
    await expect.poll(() => header(page), patience).toEqual(["Event Store: read-only", "Crud Store: read-only"]);
    expect(errors).toEqual([]);
  });

  it("with the full token, says both services allow reads and writes", async () => {
    const { page } = await ui.open("#/access");
    await apply(page, { token: tokens.full });
    await expect
      .poll(() => header(page), patience)
      .toEqual(["Event Store: read and write", "Crud Store: read and write"]);
    expect(await accessOf(page, "Event Store")).toEqual({ access: "read and write", why: "every call is allowed" });
  });

  it("without a token or with one the services do not know, says refused with each service's message", async () => {
    const { page } = await ui.open("#/access");
    await expect.poll(() => header(page), patience).toEqual(["Event Store: refused", "Crud Store: refused"]);
    expect(await accessOf(page, "Event Store")).toEqual({
      access: "refused",
      why: "this server needs a token: send the header Authorization: Bearer <token>",
    });

    await apply(page, { token: `wrong-${randomUUID()}` });
    await expect
      .poll(() => accessOf(page, "Event Store"), patience)
      .toEqual({ access: "refused", why: "the bearer token is not valid here" });
    expect(await accessOf(page, "Crud Store")).toEqual({
      access: "refused",
      why: "the bearer token is not valid here",
    });
  });

  it("shows an Event Store URL where nothing answers as unavailable, with its code and message", async () => {
    const { page } = await ui.open("#/access");
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    await apply(page, { token: tokens.full, eventStoreUrl: nowhere });
    await expect.poll(async () => (await accessOf(page, "Event Store")).access, patience).toBe("unavailable");
    expect((await accessOf(page, "Event Store")).why).toMatch(/^Unavailable: \S.+/);
    await expect.poll(async () => (await accessOf(page, "Crud Store")).access, patience).toBe("read and write");
    expect(await header(page)).toEqual(["Event Store: unreachable", "Crud Store: read and write"]);

    // The Consumers page, which needs that Event Store, says why it has nothing to show.
    await page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "Consumers" }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/^Could not list the consumers unavailable: \S.+/);
  });

  it("shows a refused call on another page with its code and message, never a blank page", async () => {
    const { page, errors } = await ui.open("#/access");
    await apply(page, { token: `wrong-${randomUUID()}` });
    await expect.poll(async () => (await accessOf(page, "Event Store")).access, patience).toBe("refused");

    const nav = page.getByRole("navigation", { name: "Pages" });
    await nav.getByRole("link", { name: "Entities" }).click();
    await page.getByLabel("Originator id").fill("acme-1");
    await page.getByRole("button", { name: "Show events" }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor();
    expect(await alert.textContent()).toBe("No events shown unauthenticated: the bearer token is not valid here");
    expect(await page.getByRole("heading", { name: "Entities" }).count()).toBe(1);

    await nav.getByRole("link", { name: "Consumers" }).click();
    await page.getByRole("heading", { name: "Consumers" }).waitFor();
    await expect
      .poll(() => page.getByRole("alert").textContent(), patience)
      .toBe("Could not list the consumers unauthenticated: the bearer token is not valid here");
    expect(errors).toEqual([]);
  });
});
