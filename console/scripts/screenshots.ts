// Takes the screenshots of the console that docs/console.md and the README show: `node --import tsx
// console/scripts/screenshots.ts` builds the console, starts an Event Store and a Crud Store on fresh storage, writes
// a small example (orders, customers with a schema and a few updates, two consumers), and saves one PNG per page under
// docs/console/. Needs Debian's Chromium (apt-get install chromium).
import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import {
  CreateRequestSchema,
  CrudStoreService,
  RegisterTypeRequestSchema,
  UpdateRequestSchema,
  createConsumerClient,
} from "@eskit/client";
import { createNodeTransport } from "@eskit/client/node.js";
import type { Page } from "playwright-core";
import {
  buildConsole,
  eventStoreApi,
  launchChromium,
  openConsole,
  startConsoleSystem,
} from "../test/support/console-harness.js";

const outDir = fileURLToPath(new URL("../../docs/console/", import.meta.url));

const customerSchema = {
  type: "object",
  required: ["name", "email"],
  properties: {
    name: { type: "string", minLength: 1 },
    email: { type: "string", pattern: "^[^@]+@[^@]+$" },
    tier: { type: "string", enum: ["free", "pro", "enterprise"] },
    seats: { type: "integer", minimum: 1 },
  },
};

const built = await buildConsole();
const system = await startConsoleSystem(built.dir);
const browser = await launchChromium();
const api = eventStoreApi(system);
const crudTransport = createNodeTransport({ baseUrl: system.crudStoreUrl, protocol: "grpc" });
const crud = createClient(CrudStoreService, crudTransport);
const consumerTransport = createNodeTransport({ baseUrl: system.eventStoreUrl, protocol: "grpc" });
try {
  for (let i = 1; i <= 40; i++) {
    await api.client.appendEvents([
      {
        originatorId: `order-${1000 + i}`,
        version: 1n,
        eventType: "Order.Placed",
        payload: { total: 20 + i, lines: i % 4 },
      },
      { originatorId: `order-${1000 + i}`, version: 2n, eventType: "Order.Paid", payload: { method: "card" } },
    ]);
  }
  await crud.registerType(
    create(RegisterTypeRequestSchema, {
      spec: { entityType: "acme.Customer", schemaSpec: { jsonSchema: JSON.stringify(customerSchema) } },
    }),
  );
  const ids: string[] = [];
  for (const [name, tier] of [
    ["Ada Lovelace", "pro"],
    ["Grace Hopper", "enterprise"],
    ["Alan Turing", "free"],
  ] as const) {
    const email = `${name.split(" ")[0]!.toLowerCase()}@example.com`;
    const answer = await crud.create(
      create(CreateRequestSchema, {
        entityType: "acme.Customer",
        payload: JSON.stringify({ name, email, tier, seats: 3 }),
      }),
    );
    ids.push(answer.originator!.id);
  }
  await crud.update(
    create(UpdateRequestSchema, {
      entityType: "acme.Customer",
      originator: { id: ids[0]!, version: 1n },
      payload: JSON.stringify({ name: "Ada Lovelace", email: "ada@example.com", tier: "enterprise", seats: 12 }),
    }),
  );
  const consumers = createConsumerClient(consumerTransport);
  await consumers.saveOffset("invoice-projector", 80n);
  await consumers.saveOffset("email-sender", 35n);

  await mkdir(outDir, { recursive: true });
  const shoot = async (name: string, hash: string, act?: (page: Page) => Promise<void>) => {
    const { page } = await openConsole(browser, system, hash);
    await page.waitForLoadState("networkidle").catch(() => undefined);
    await act?.(page);
    await page.waitForTimeout(500);
    await page.screenshot({ path: `${outDir}${name}.png` });
    await page.context().close();
    process.stdout.write(`docs/console/${name}.png\n`);
  };
  await shoot("log", "#/log", async (page) => {
    await page.getByLabel("Start at").selectOption("beginning");
    await page.getByRole("button", { name: /Start|Restart/ }).click();
    await page.getByRole("option").nth(5).click();
  });
  await shoot("entities", "#/entities/order-1007", async (page) => {
    await page.getByText("Order.Paid").first().click();
  });
  await shoot("documents", `#/documents/acme.Customer/${encodeURIComponent(ids[0]!)}`);
  await shoot("consumers", "#/consumers");
  await shoot("access", "#/access");
} finally {
  crudTransport.close();
  consumerTransport.close();
  api.close();
  await browser.close();
  await system.stop();
  await built.remove();
}
