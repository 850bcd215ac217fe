import { randomUUID } from "node:crypto";
import { createClient, type Client } from "@connectrpc/connect";
import { Code, ConnectError, CrudStoreService } from "@eskit/client";
import { createNodeTransport, type NodeTransport } from "@eskit/client/node.js";
import { chromium as chromiumTool, describeWithTools } from "@eskit/test-kit/system-tools.js";
import type { Locator, Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { useConsole } from "./support/use-console.js";

const tokens = { full: "documents-full-token-0123456789", read: "documents-read-token-0123456789" };

/** People: a name is required, an age is a whole number from 0. */
const personSchema = {
  type: "object",
  required: ["name"],
  properties: {
    name: { type: "string", minLength: 1 },
    age: { type: "integer", minimum: 0 },
    city: { type: "string" },
    email: { type: "string" },
  },
  additionalProperties: false,
};

describeWithTools([chromiumTool], "the console's Documents page", () => {
  const ui = useConsole(tokens);
  let transport: NodeTransport | undefined;
  let crud: Client<typeof CrudStoreService>;

  beforeAll(async () => {
    transport = createNodeTransport({ baseUrl: ui.system.crudStoreUrl, protocol: "connect", token: tokens.full });
    crud = createClient(CrudStoreService, transport);
  });

  afterAll(async () => {
    transport?.close();
  });

  /** A fresh type of people, registered through the API, so that each test sees only its own documents. */
  async function registerPeople(): Promise<string> {
    const entityType = `acme.t${randomUUID().slice(0, 8)}.Person`;
    await crud.registerType({
      spec: { entityType, schemaSpec: { schemaVersion: 1n, jsonSchema: JSON.stringify(personSchema) } },
    });
    return entityType;
  }

  /** The console at `hash` in a tab holding `token` (put in the tab's sessionStorage before the app loads). */
  async function openAs(token: string, hash: string): Promise<{ page: Page; errors: string[] }> {
    const opened = await ui.open(hash);
    await opened.page
      .context()
      .addInitScript((t) => sessionStorage.setItem("eskit.console.settings", JSON.stringify({ token: t })), token);
    await opened.page.reload();
    return opened;
  }

  const rowsOf = (table: Locator) =>
    table
      .locator("tbody tr")
      .evaluateAll((rows) => rows.map((row) => Array.from(row.querySelectorAll("td"), (cell) => cell.innerText)));

  const documentAt = (page: Page, version: number) =>
    page.getByLabel(`JSON of version ${version}`, { exact: true }).innerText();

  it("lists the registered types with their schema versions and shows a type's schema pretty-printed", async () => {
    const entityType = await registerPeople();
    const { page, errors } = await openAs(tokens.full, "#/documents");
    const types = page.getByRole("table", { name: "Registered types" });
    await expect
      .poll(async () => (await rowsOf(types)).find((row) => row[0] === entityType))
      .toEqual([entityType, "1", "Show schema"]);
    await page.getByRole("button", { name: `Show schema of ${entityType}` }).click();
    const schema = page.getByRole("region", { name: `Schema of ${entityType}` });
    expect(await schema.getByLabel(`JSON Schema of ${entityType}`).innerText()).toBe(
      JSON.stringify(personSchema, null, 2),
    );
    await page.getByRole("link", { name: entityType }).click();
    await expect.poll(() => page.getByRole("heading", { level: 1 }).innerText()).toBe(entityType);
    expect(errors).toEqual([]);
  });

  it("shows exactly the changed paths, with old and new values, between any two versions of a document", async () => {
    const entityType = await registerPeople();
    const id = `ada-${randomUUID()}`;
    const write = { entityType, payload: "" };
    await crud.create({ ...write, originator: { id }, payload: '{"name":"Ada","age":36,"city":"London"}' });
    const v2 = '{"name":"Ada","age":37,"city":"London","email":"ada@example.org"}';
    await crud.update({ ...write, originator: { id, version: 1n }, payload: v2 });
    const v3 = '{"name":"Ada Lovelace","age":37,"email":"ada@example.org"}';
    await crud.update({ ...write, originator: { id, version: 2n }, payload: v3 });

    const { page, errors } = await openAs(tokens.full, `#/documents/${entityType}/${id}`);
    const history = page.getByRole("table", { name: `History of ${id}` });
    await expect
      .poll(async () => (await rowsOf(history)).map((row) => row.slice(0, 2)))
      .toEqual([
        ["1", "created"],
        ["2", "updated"],
        ["3", "updated"],
      ]);

    // By default the version before the latest against the latest.
    const latestChanges = page.getByRole("table", { name: "Changes from version 2 to version 3" });
    await expect
      .poll(() => rowsOf(latestChanges))
      .toEqual([
        ["changed", "/name", '"Ada" → "Ada Lovelace"'],
        ["removed", "/city", '"London" → (absent)'],
      ]);

    await page.getByLabel("From version", { exact: true }).selectOption("1");
    const allChanges = page.getByRole("table", { name: "Changes from version 1 to version 3" });
    await expect
      .poll(() => rowsOf(allChanges))
      .toEqual([
        ["changed", "/name", '"Ada" → "Ada Lovelace"'],
        ["changed", "/age", "36 → 37"],
        ["removed", "/city", '"London" → (absent)'],
        ["added", "/email", '(absent) → "ada@example.org"'],
      ]);

    await page.getByLabel("To version", { exact: true }).selectOption("2");
    const firstUpdate = page.getByRole("table", { name: "Changes from version 1 to version 2" });
    await expect
      .poll(() => rowsOf(firstUpdate))
      .toEqual([
        ["changed", "/age", "36 → 37"],
        ["added", "/email", '(absent) → "ada@example.org"'],
      ]);
    expect(errors).toEqual([]);
  });

  it("shows a schema violation at its field when creating a document, and stores nothing", async () => {
    const entityType = await registerPeople();
    const id = `bad-${randomUUID()}`;
    const { page, errors } = await openAs(tokens.full, `#/documents/${entityType}`);
    const form = page.getByRole("form", { name: "Create a document" });
    await form.getByLabel("Id", { exact: true }).fill(id);
    await form.getByLabel("name", { exact: true }).fill("Bob");
    await form.getByLabel("age", { exact: true }).fill("-5");
    await form.getByRole("button", { name: "Create" }).click();

    const age = form.getByLabel("age", { exact: true });
    await expect.poll(() => age.getAttribute("aria-invalid")).toBe("true");
    const describedBy = (await age.getAttribute("aria-describedby")) ?? "";
    expect(await page.locator(`[id="${describedBy}"]`).innerText()).toBe("must be >= 0");
    expect(await form.getByLabel("name", { exact: true }).getAttribute("aria-invalid")).toBeNull();
    expect(await form.getByRole("alert").locator(".error-code").innerText()).toBe("invalid_argument");

    expect((await crud.list({ entityType })).results).toEqual([]);
    const read = await crud.get({ entityType, originator: { id }, deleted: true }).catch((e: unknown) => e);
    expect(read).toBeInstanceOf(ConnectError);
    expect((read as ConnectError).code).toBe(Code.NotFound);
    expect(errors).toEqual([]);
  });

  it("creates, updates and deletes a document, and still shows the deleted one at each version", async () => {
    const entityType = await registerPeople();
    const id = `grace-${randomUUID()}`;
    const { page, errors } = await openAs(tokens.full, `#/documents/${entityType}`);
    const create = page.getByRole("form", { name: "Create a document" });
    await create.getByLabel("Id", { exact: true }).fill(id);
    await create.getByLabel("name", { exact: true }).fill("Grace");
    await create.getByLabel("age", { exact: true }).fill("45");
    await create.getByRole("button", { name: "Create" }).click();

    await expect.poll(() => new URL(page.url()).hash).toBe(`#/documents/${entityType}/${id}`);
    await expect.poll(() => documentAt(page, 1)).toBe(JSON.stringify({ name: "Grace", age: 45 }, null, 2));

    const update = page.getByRole("form", { name: "Update the document" });
    await update.getByLabel("age", { exact: true }).fill("46");
    await update.getByLabel("city", { exact: true }).fill("Arlington");
    await update.getByRole("button", { name: "Update" }).click();
    await expect
      .poll(() => documentAt(page, 2))
      .toBe(JSON.stringify({ name: "Grace", age: 46, city: "Arlington" }, null, 2));

    await page.getByRole("button", { name: "Delete", exact: true }).click();
    await page.getByRole("button", { name: "Confirm delete" }).click();
    await expect.poll(() => page.getByText("Deleted at version 3", { exact: false }).count()).toBeGreaterThan(0);
    expect(await page.getByRole("form", { name: "Update the document" }).count()).toBe(0);

    await page.getByLabel("Show version", { exact: true }).selectOption("1");
    await expect.poll(() => documentAt(page, 1)).toBe(JSON.stringify({ name: "Grace", age: 45 }, null, 2));
    await page.getByRole("button", { name: "Show version 3" }).click();
    await expect
      .poll(() => documentAt(page, 3))
      .toBe(JSON.stringify({ name: "Grace", age: 46, city: "Arlington" }, null, 2));

    // What the Crud Store holds: a deleted document at version 3, its last state as updated.
    const stored = await crud.get({ entityType, originator: { id }, deleted: true });
    expect([stored.originator?.version, JSON.parse(stored.payload)]).toEqual([
      3n,
      { name: "Grace", age: 46, city: "Arlington" },
    ]);
    expect((await crud.list({ entityType })).results).toEqual([]);
    expect(errors).toEqual([]);
  });

  it("with a read token disables create, update and delete, says why, and writes nothing", async () => {
    const entityType = await registerPeople();
    const id = `kept-${randomUUID()}`;
    await crud.create({ entityType, originator: { id }, payload: '{"name":"Kept"}' });
    const reason = "Writes are off: the token may only read: writes need a full token (ESKIT_AUTH_TOKENS)";

    const { page, errors } = await openAs(tokens.read, `#/documents/${entityType}`);
    const writes: string[] = [];
    page.on("request", (request) => {
      const method = /CrudStoreService\/(Create|Update|Delete)$/.exec(new URL(request.url()).pathname)?.[1];
      if (method !== undefined) writes.push(method);
    });
    const create = page.getByRole("form", { name: "Create a document" });
    await expect.poll(() => create.locator(".blocked-reason").innerText()).toBe(reason);
    // The reason shows once the access probe (an invalid Create, refused unread) has answered: any write after it
    // would be the page's.
    const probes = [...writes];
    const createButton = create.getByRole("button", { name: "Create" });
    expect(await createButton.isDisabled()).toBe(true);
    const describedBy = (await createButton.getAttribute("aria-describedby")) ?? "";
    expect(await page.locator(`[id="${describedBy}"]`).innerText()).toBe(reason);
    // Enter in a field would submit the form: it must not write either.
    await create.getByLabel("Id", { exact: true }).fill(`new-${randomUUID()}`);
    await create.getByLabel("name", { exact: true }).fill("Intruder");
    await create.getByLabel("name", { exact: true }).press("Enter");

    await page.getByRole("link", { name: id }).click();
    const update = page.getByRole("form", { name: "Update the document" });
    await expect.poll(() => update.locator(".blocked-reason").innerText()).toBe(reason);
    expect(await update.getByRole("button", { name: "Update" }).isDisabled()).toBe(true);
    await update.getByLabel("name", { exact: true }).fill("Changed");
    await update.getByLabel("name", { exact: true }).press("Enter");
    const deleteButton = page.getByRole("button", { name: "Delete", exact: true });
    expect(await deleteButton.isDisabled()).toBe(true);
    expect(await page.getByRole("region", { name: "Delete" }).locator(".blocked-reason").innerText()).toBe(reason);

    expect(writes).toEqual(probes);
    const listed = await crud.list({ entityType });
    expect(listed.results.map((r) => [r.originator?.id, r.originator?.version, r.payload])).toEqual([
      [id, 1n, '{"name":"Kept"}'],
    ]);
    expect(errors).toEqual([]);
  });

  it("says when an update was based on a stale version, writes nothing, and reloads the latest on request", async () => {
    const entityType = await registerPeople();
    const id = `stale-${randomUUID()}`;
    await crud.create({ entityType, originator: { id }, payload: '{"name":"Old"}' });
    const { page, errors } = await openAs(tokens.full, `#/documents/${entityType}/${id}`);
    const update = page.getByRole("form", { name: "Update the document" });
    await update.getByRole("radio", { name: "JSON" }).check();
    const json = update.getByLabel("Document (JSON)", { exact: true });
    expect(JSON.parse(await json.inputValue())).toEqual({ name: "Old" });

    // Someone else writes version 2 after the page read version 1.
    await crud.update({ entityType, originator: { id, version: 1n }, payload: '{"name":"Newer"}' });
    await json.fill('{"name":"Mine"}');
    await update.getByRole("button", { name: "Update" }).click();
    const notice = update.getByRole("alert");
    await expect
      .poll(() => notice.locator(".error-message").innerText())
      .toBe("your change was based on version 1, and it is now at version 2.");
    expect(await notice.locator(".error-code").innerText()).toBe("aborted");

    await notice.getByRole("button", { name: "Reload the document" }).click();
    await expect.poll(() => page.getByRole("heading", { name: "Update version 2" }).count()).toBe(1);
    expect(await documentAt(page, 2)).toBe(JSON.stringify({ name: "Newer" }, null, 2));
    expect(await update.getByLabel("name", { exact: true }).inputValue()).toBe("Newer");
    const stored = await crud.get({ entityType, originator: { id } });
    expect([stored.originator?.version, stored.payload]).toEqual([2n, '{"name":"Newer"}']);
    expect(errors).toEqual([]);
  });

  it("shows why a document cannot be read instead of a blank page", async () => {
    const entityType = await registerPeople();
    const { page, errors } = await openAs(tokens.full, `#/documents/${entityType}/never-${randomUUID()}`);
    const notice = page.getByRole("alert");
    await expect.poll(() => notice.locator(".error-code").innerText()).toBe("not_found");
    expect(await notice.locator("strong").innerText()).toBe("Could not read the document");
    expect(errors).toEqual([]);
  });
});
