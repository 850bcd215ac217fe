import { randomUUID } from "node:crypto";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "@eskit/test-kit/chromium.js";
import { chromium as chromiumTool, describeWithTools } from "@eskit/test-kit/system-tools.js";
import type { ScenarioInput } from "./browser/app.js";
import { bundlePage, startPageServer, type PageServer } from "./browser/page-server.js";
import { clientsFor, startTestEventStore, type TestEventStore } from "./harness.js";

// Browsers use the event store through @eskit/client, from a page on another origin (CORS), in headless
// Chromium driven by playwright-core: Connect (JSON) and gRPC-Web (binary), unary calls and a server stream.
// A page on an origin the store does not allow is refused by the browser and stores nothing.

const webProtocols = ["connect", "grpc-web"] as const;

// Non-ASCII in several UTF-8 lengths (2, 3 and 4 bytes), an escape, odd spacing and a number the store must not
// normalise: it has to come back byte for byte through both encodings.
const payload = '{ "text" : "héllo wörld ☃ — 日本語 😀",\n  "n": 1.0e+2, "esc": "\\u00e9" }';

const unique = (prefix: string) => `${prefix}${randomUUID().replaceAll("-", "").slice(0, 12)}`;

describeWithTools([chromiumTool], "the event store from a browser page on another origin", () => {
  let store: TestEventStore | undefined;
  let allowed: PageServer | undefined;
  let denied: PageServer | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    const script = await bundlePage();
    [allowed, denied] = await Promise.all([startPageServer(script), startPageServer(script)]);
    const origin = allowed.origin;
    [store, browser] = await Promise.all([startTestEventStore({ corsOrigins: [origin] }), launchChromium()]);
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all([allowed?.close(), denied?.close(), store?.stop()]);
  });

  /** A fresh page (own context) loaded from `server`, with its console collected. */
  async function openPage(server: PageServer): Promise<{ page: Page; console: string[] }> {
    const context = await browser!.newContext();
    const page = await context.newPage();
    const console: string[] = [];
    page.on("console", (message) => console.push(`${message.type()}: ${message.text()}`));
    page.on("pageerror", (error) => console.push(`pageerror: ${error.message}`));
    await page.goto(`${server.origin}/`);
    await page.waitForFunction(() => window.eskitE2E !== undefined, undefined, { timeout: 5000 });
    return { page, console };
  }

  describe.each(webProtocols)("over %s", (protocol) => {
    it("appends, reads, conflicts, streams the log and keeps a consumer offset from an allowed origin", async () => {
      const input: ScenarioInput = {
        baseUrl: store!.url,
        protocol,
        originatorId: unique("browser-"),
        consumerId: unique("browser-consumer-"),
        payload,
      };
      const { page, console } = await openPage(allowed!);
      try {
        expect(new URL(allowed!.origin).port).not.toBe(String(store!.port));
        const result = await page.evaluate((arg) => window.eskitE2E.scenario(arg), input);

        // Append: two log ids, increasing.
        expect(result.logIds).toHaveLength(2);
        const [first, second] = result.logIds.map(BigInt) as [bigint, bigint];
        expect(second > first).toBe(true);

        // GetEvents: versions 1 and 2, payload byte for byte.
        expect(result.events.map(({ eventId: _, ...rest }) => rest)).toEqual([
          { originatorId: input.originatorId, version: "1", eventType: "Greeting.Said", payload },
          { originatorId: input.originatorId, version: "2", eventType: "Greeting.Said", payload },
        ]);
        for (const e of result.events) expect(e.eventId).toMatch(/^[0-9a-f-]{36}$/u);

        // A stale version: aborted, and nothing stored.
        expect(result.stale).toEqual({
          isConnectError: true,
          code: "aborted",
          message: expect.stringContaining("is at version 2") as unknown as string,
        });
        expect(result.versionsAfterStale).toEqual(["1", "2"]);

        // LogsPoll from the first log id: both events, then one appended while the stream was open; the page's
        // abort ends the stream with canceled.
        expect(result.polled.slice(0, 2)).toEqual([
          { id: String(first), originatorId: input.originatorId, version: "1", payload },
          { id: String(second), originatorId: input.originatorId, version: "2", payload },
        ]);
        expect(result.polled).toHaveLength(3);
        expect(result.polled[2]).toMatchObject({ originatorId: input.originatorId, version: "3", payload: "{}" });
        expect(BigInt(result.polled[2]!.id) > second).toBe(true);
        expect(result.pollEnd).toMatchObject({ isConnectError: true, code: "canceled" });

        // Consumer offset: unknown at first, then the saved value.
        expect(result.offsetBefore).toBe("none");
        expect(result.offsetAfter).toEqual({ offset: result.polled[2]!.id, hasUpdatedAt: true });

        // What Node reads back is what the browser wrote.
        const node = clientsFor(store!.url, "connect");
        try {
          const stored = await node.eventStore.readEvents(input.originatorId);
          expect(stored.map((e) => [e.originator?.version, e.payload])).toEqual([
            [1n, payload],
            [2n, payload],
            [3n, "{}"],
          ]);
          expect((await node.consumers.getOffset(input.consumerId))?.offset).toBe(BigInt(result.polled[2]!.id));
        } finally {
          node.close();
        }
        // Connect answers errors with HTTP statuses (aborted 409, not_found 404), which Chromium logs as failed
        // loads; anything about CORS, or an uncaught page error, would be a real problem.
        expect(console.filter((line) => /CORS|^pageerror/u.test(line))).toEqual([]);
      } finally {
        await page.context().close();
      }
    });

    it("is refused by the browser for a page on an origin not in corsOrigins, and stores nothing", async () => {
      const originatorId = unique("denied-");
      const { page, console } = await openPage(denied!);
      try {
        expect(denied!.origin).not.toBe(allowed!.origin);
        const result = await page.evaluate((arg) => window.eskitE2E.appendOnce(arg), {
          baseUrl: store!.url,
          protocol,
          originatorId,
        });
        expect(result).not.toBe("succeeded");
        expect(result).toMatchObject({ isConnectError: true });
        expect(["unknown", "unavailable"]).toContain((result as { code: string }).code);
        // The browser says why: CORS, not a network failure.
        expect(console.join("\n")).toMatch(/blocked by CORS policy/u);

        const node = clientsFor(store!.url, "connect");
        try {
          expect(await node.eventStore.readEvents(originatorId)).toEqual([]);
        } finally {
          node.close();
        }
      } finally {
        await page.context().close();
      }
    });
  });
});
