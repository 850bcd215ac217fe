import { randomUUID } from "node:crypto";
import { createNodeTransport, type NodeTransport } from "@eskit/client/node.js";
import { project, ProjectionHandlerError, type Projection } from "@eskit/client/projection.js";
import type { Page } from "playwright-core";
import postgres, { type Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientsFor, dropDatabase, freshDatabaseUrl, type Clients } from "@eskit/test-kit/event-store.js";
import { chromium as chromiumTool, describeWithTools } from "@eskit/test-kit/system-tools.js";
import { useConsole } from "./support/use-console.js";

const patience = { timeout: 10_000 };
// project() keeps its position in PostgreSQL (its lock needs a second connection, which PGlite does not serve).
const postgresUrl = process.env["DATABASE_URL"];
/** The page asks every 5 s; a stalled marker needs one answer after the threshold has passed. */
const refreshPatience = { timeout: 15_000, interval: 250 };

describeWithTools([chromiumTool], "the console's Consumers page", () => {
  const ui = useConsole();
  let api: Clients | undefined;
  let head = 0n;

  beforeAll(async () => {
    api = clientsFor(ui.system.eventStoreUrl, "grpc");
    await api.eventStore.appendEvents(
      Array.from({ length: 30 }, (_, i) => ({
        originatorId: `meter-${i}`,
        version: 1n,
        eventType: "Meter.Installed",
        payload: { i },
      })),
    );
    head = (await api.eventStore.getHead({})).headId;
  });

  afterAll(async () => {
    api?.close();
  });

  const table = (page: Page) => page.getByRole("table", { name: "Consumers" });
  const rowOf = (page: Page, id: string) =>
    table(page)
      .getByRole("row")
      .filter({ has: page.getByRole("rowheader", { name: id, exact: true }) });
  /** Offset, lag, last update, state. */
  const cellsOf = async (page: Page, id: string) =>
    (await rowOf(page, id).getByRole("cell").allTextContents()).map((text) => text.trim());
  const lastUpdate = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \(\d+ s ago\)$/;

  it("lists each consumer with its offset, its lag behind the head and its last save, the furthest behind first", async () => {
    const [current, behind] = [`projector-${randomUUID().slice(0, 6)}`, `mailer-${randomUUID().slice(0, 6)}`];
    await api!.consumers.saveOffset(current, head);
    await api!.consumers.saveOffset(behind, head - 25n);
    const { page, errors } = await ui.open("#/consumers");
    await rowOf(page, behind).waitFor();

    expect(await cellsOf(page, behind)).toEqual([
      String(head - 25n),
      "25",
      expect.stringMatching(lastUpdate),
      "catching up",
    ]);
    expect(await cellsOf(page, current)).toEqual([String(head), "0", expect.stringMatching(lastUpdate), "up to date"]);
    const ids = await table(page).getByRole("rowheader").allTextContents();
    expect(ids.indexOf(behind)).toBeLessThan(ids.indexOf(current));
    expect(await page.getByText("Stalled: behind the head and no offset saved for more than 60 s.").count()).toBe(1);
    expect(await page.getByRole("status").textContent()).toContain(`head ${head} · `);
    expect(errors).toEqual([]);
  });

  it("marks a consumer behind the head that has not saved for longer than the threshold, in words", async () => {
    const [current, stuck] = [`indexer-${randomUUID().slice(0, 6)}`, `auditor-${randomUUID().slice(0, 6)}`];
    await api!.consumers.saveOffset(current, head);
    await api!.consumers.saveOffset(stuck, head - 20n);
    // The API cannot back-date a save: a threshold of 1 s from the address lets the save grow old within the test.
    const { page } = await ui.open("?stalledAfter=1#/consumers");
    await rowOf(page, stuck).waitFor();
    expect(
      await page.getByText("more than 1 s (set by ?stalledAfter= in the address; the default is 60 s)").count(),
    ).toBe(1);
    await expect.poll(async () => (await cellsOf(page, stuck))[3], refreshPatience).toBe("stalled");
    expect(await cellsOf(page, stuck)).toEqual([
      String(head - 20n),
      "20",
      expect.stringMatching(lastUpdate),
      "stalled",
    ]);
    expect((await cellsOf(page, current))[3]).toBe("up to date");
  });

  it("stops refreshing while the toggle is off, and asks again on Refresh now", async () => {
    const { page } = await ui.open("#/consumers");
    await table(page).waitFor();
    const toggle = page.getByLabel("Refresh every 5 s");
    expect(await toggle.isChecked()).toBe(true);
    await toggle.uncheck();
    await expect.poll(() => page.getByRole("status").textContent(), patience).toContain("refreshing paused");

    const late = `late-${randomUUID().slice(0, 6)}`;
    await api!.consumers.saveOffset(late, head - 3n);
    await page.waitForTimeout(6500);
    expect(await rowOf(page, late).count()).toBe(0);

    await page.getByRole("button", { name: "Refresh now" }).click();
    await expect.poll(async () => (await cellsOf(page, late))[1], patience).toBe("3");
  });

  // Last in the file: these append to the log, which the tests above measure their lags against.
  describe.skipIf(!postgresUrl)(
    `projections${postgresUrl ? "" : " (skipped: needs PostgreSQL, set DATABASE_URL)"}`,
    () => {
      let url: string | undefined;
      let sql: Sql | undefined;
      let transport: NodeTransport | undefined;
      const running: Projection[] = [];

      beforeAll(async () => {
        url = await freshDatabaseUrl(postgresUrl);
        sql = postgres(url, { max: 4, fetch_types: false, onnotice: () => {} });
        transport = createNodeTransport({ baseUrl: ui.system.eventStoreUrl, protocol: "grpc" });
      });
      afterAll(async () => {
        await Promise.all(running.map((p) => p.stop().catch(() => {})));
        transport?.close();
        await sql?.end({ timeout: 5 });
        if (url !== undefined) await dropDatabase(url);
      });

      /** Projects every entry's id into a table of its own until it meets an event of type `failOn`. */
      function startProjection(name: string, failOn = "none"): Projection {
        const table = `seen_${name.replace(/\W/g, "_")}`;
        const projection = project({
          transport: transport!,
          database: sql!,
          name,
          lockRetryMs: 100,
          setup: (tx) => tx`create table if not exists ${tx(table)} (log_id bigint primary key)`,
          handle: async (entries, tx) => {
            const failing = entries.find((entry) => entry.event?.eventType === failOn);
            if (failing !== undefined) throw new Error(`cannot project log id ${failing.id}`);
            await tx`insert into ${tx(table)} ${tx(entries.map((entry) => ({ log_id: String(entry.id) })))}`;
          },
        });
        running.push(projection);
        return projection;
      }
      const appendMeters = (count: number, eventType = "Meter.Read") =>
        api!.eventStore.appendEvents(
          Array.from({ length: count }, () => ({
            originatorId: `meter-${randomUUID()}`,
            version: 1n,
            eventType,
            payload: { kwh: 1 },
          })),
        );
      const headNow = async () => (await api!.eventStore.getHead({})).headId;
      /** A projection's row: the tag is part of its header, so finding the row by it checks the tag too. */
      const projectionRow = (name: string) => `projection:${name} projection`;

      it("lists a running projection, tagged, at its position, its lag falling to 0 as it follows the log", async () => {
        const name = `meters-${randomUUID().slice(0, 6)}`;
        const projection = startProjection(name);
        const { page, errors } = await ui.open("#/consumers");
        let target = await headNow();
        await expect
          .poll(async () => (await cellsOf(page, projectionRow(name))).slice(0, 2), refreshPatience)
          .toEqual([String(target), "0"]);
        expect(await cellsOf(page, projectionRow(name))).toEqual([
          String(target),
          "0",
          expect.stringMatching(lastUpdate),
          "up to date",
        ]);
        expect(projection.status()).toMatchObject({ state: "running", position: target });
        expect(await page.getByRole("status").textContent()).toMatch(/ consumers \(\d+ projections?\) · /);
        // A consumer that only looks like one is not tagged.
        const ids = await table(page).getByRole("rowheader").allTextContents();
        expect(ids.filter((id) => id.endsWith(" projection")).every((id) => id.startsWith("projection:"))).toBe(true);

        await appendMeters(12);
        target = await headNow();
        await expect
          .poll(async () => (await cellsOf(page, projectionRow(name))).slice(0, 2), refreshPatience)
          .toEqual([String(target), "0"]);
        expect(projection.status().position).toBe(target);
        expect(errors).toEqual([]);
      });

      it("marks a projection that failed, and one that was stopped, stalled once the log moves on past the threshold", async () => {
        const [failing, stopped] = [`valves-${randomUUID().slice(0, 6)}`, `pumps-${randomUUID().slice(0, 6)}`];
        const [broken, halted] = [startProjection(failing, "Valve.Jammed"), startProjection(stopped)];
        const before = await headNow();
        const reported = async (name: string) => (await api!.consumers.getOffset(`projection:${name}`))?.offset;
        await expect.poll(() => reported(failing), patience).toBe(before);
        await expect.poll(() => reported(stopped), patience).toBe(before);
        await halted.stop();

        await appendMeters(1, "Valve.Jammed");
        await appendMeters(4);
        const after = await headNow();
        expect(await broken.done.catch((e: unknown) => e)).toBeInstanceOf(ProjectionHandlerError);
        expect(broken.status()).toMatchObject({ state: "failed", position: before });

        const { page, errors } = await ui.open("?stalledAfter=1#/consumers");
        for (const name of [failing, stopped]) {
          await expect.poll(async () => (await cellsOf(page, projectionRow(name)))[3], refreshPatience).toBe("stalled");
          expect(await cellsOf(page, projectionRow(name))).toEqual([
            String(before),
            String(after - before),
            expect.stringMatching(lastUpdate),
            "stalled",
          ]);
        }
        expect(await page.getByRole("status").textContent()).toMatch(/ · [1-9]\d* stalled · /);
        expect(errors).toEqual([]);
      });
    },
  );
});
