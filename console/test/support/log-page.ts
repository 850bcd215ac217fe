import { randomUUID } from "node:crypto";
import type { EventStoreClient } from "@eskit/client";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect } from "vitest";
import { eventStoreApi } from "./console-harness.js";
import { useConsole, type ConsoleFixture } from "./use-console.js";

/** `prefix` and 8 random hex digits: an originator no other test (or run) appends to. */
export const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

/** The Log page's list of entries. */
export const entries = (page: Page) => page.getByRole("listbox", { name: "Log entries" });

/** Waits for the Log page to say it follows the live log. */
export const following = (page: Page) =>
  expect.poll(() => page.getByRole("status").textContent()).toMatch(/^following live/);

/** Appends `count` events to a new originator, one Append; answers their log ids. */
async function appendTo(
  client: EventStoreClient,
  originatorId: string,
  count: number,
  eventType = "Order.Placed",
): Promise<bigint[]> {
  const events = Array.from({ length: count }, (_, i) => ({
    originatorId,
    version: BigInt(i + 1),
    eventType,
    payload: { n: i + 1, note: "héllo" },
    metadata: { source: "log-test" },
  }));
  return client.appendEvents(events);
}

/**
 * The Log page's suites: {@link useConsole} (call it first in the suite), and `appendTo` on an Event Store client of
 * that system, opened after it starts and closed before it stops.
 */
export function useLogPage(): {
  ui: ConsoleFixture;
  appendTo(originatorId: string, count: number, eventType?: string): Promise<bigint[]>;
} {
  const ui = useConsole();
  let api: { client: EventStoreClient; close(): void } | undefined;
  beforeAll(() => {
    api = eventStoreApi(ui.system);
  });
  afterAll(() => {
    api?.close();
  });
  return {
    ui,
    appendTo(originatorId, count, eventType) {
      if (api === undefined) throw new Error("the Log page's client is not open (use it inside a test)");
      return appendTo(api.client, originatorId, count, eventType);
    },
  };
}
