import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, type Services, startServices } from "./support/run-cli.js";

// Export from one Event Store, import into another: the second holds the same events (ids, payloads byte for byte,
// metadata, occurred_on), in the same order, each once, however often or wherever the import was interrupted.

let source: Services;
let work: string;

beforeAll(async () => {
  source = await startServices();
  work = await mkdtemp(join(tmpdir(), "eskit-cli-"));
}, 60_000);

afterAll(async () => {
  await source?.stop();
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

interface Line {
  id: string;
  event: { originator: { id: string; version: string }; eventType: string; payload: string; eventId: string };
}

const parseLines = (text: string): Line[] =>
  text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Line);

/** `n` events over `originators` originators, appended through the CLI's own import (a generated file). */
async function seed(services: Services, n: number, originators: number): Promise<void> {
  const versions = new Map<string, number>();
  const prefix = randomUUID();
  let text = "";
  for (let i = 0; i < n; i++) {
    const originator = `o${i % originators}-${prefix}`;
    const version = (versions.get(originator) ?? 0) + 1;
    versions.set(originator, version);
    const event = {
      originator: { id: originator, version: String(version) },
      eventType: i % 7 === 0 ? "Order.Cancelled" : "Order.Placed",
      payload: JSON.stringify({ i, text: "é€😀", nested: { n: [i, -i] } }),
      eventId: randomUUID(),
      occurredOn: new Date(Date.UTC(2026, 0, 1, 0, 0, i % 60, i % 1000)).toISOString(),
      metadata: { seq: String(i) },
    };
    text += `${JSON.stringify({ id: "0", event })}\n`;
  }
  const file = join(work, `seed-${prefix}.ndjson`);
  await writeFile(file, text);
  const result = await runCli([...services.flags, "import", file], { timeoutMs: 120_000 });
  expect(result.code, result.stderr).toBe(0);
}

async function exportAll(services: Services, extra: readonly string[] = []): Promise<string> {
  const result = await runCli([...services.flags, "export", ...extra], { timeoutMs: 120_000 });
  expect(result.code, result.stderr).toBe(0);
  expect(result.stderr).toMatch(/^exported [\d,]+ events in /mu);
  return result.stdout;
}

/** Starts `eskit import file --batch 100` into `target` and kills it (-9) once it noted a batch; answers the note's path. */
async function killImportMidway(target: Services, file: string): Promise<string> {
  const checkpoint = `${file}.eskit-import`;
  const killed = await runCli([...target.flags, "import", file, "--batch", "100"], {
    stopWhen: { when: () => existsSync(checkpoint), signal: "SIGKILL" },
    timeoutMs: 120_000,
  });
  expect(killed.signal).toBe("SIGKILL");
  return checkpoint;
}

/** The events of an export without their log ids (which the target store draws anew). */
const eventsOf = (text: string) => parseLines(text).map((l) => l.event);

describe("eskit export and import", () => {
  it("carries every event over exactly, in order, and a second import stores nothing twice", async () => {
    await seed(source, 3000, 40);
    const exported = await exportAll(source);
    const lines = parseLines(exported);
    expect(lines).toHaveLength(3000);
    const ids = lines.map((l) => BigInt(l.id));
    expect(ids.every((id, i) => i === 0 || id > ids[i - 1]!)).toBe(true);

    const target = await startServices();
    try {
      const file = join(work, "export.ndjson");
      await writeFile(file, exported);
      const first = await runCli([...target.flags, "import", file], { timeoutMs: 120_000 });
      expect(first.code, first.stderr).toBe(0);
      expect(JSON.parse(first.stdout)).toEqual({ file, events: "3000", lines: "3000" });
      expect(existsSync(`${file}.eskit-import`)).toBe(false);
      const again = await runCli([...target.flags, "import", file], { timeoutMs: 120_000 });
      expect(again.code, again.stderr).toBe(0);
      const copied = await exportAll(target);
      expect(eventsOf(copied)).toEqual(eventsOf(exported));
    } finally {
      await target.stop();
    }
  }, 180_000);

  it("exports a selector's events from an id", async () => {
    const all = parseLines(await exportAll(source));
    const from = all[1000]!.id;
    const cancelled = parseLines(await exportAll(source, ["--selector", "*.Cancelled", "--from", from]));
    expect(cancelled).toEqual(
      all.filter((l) => BigInt(l.id) >= BigInt(from) && l.event.eventType === "Order.Cancelled"),
    );
  }, 120_000);

  it("resumes an import killed half-way (kill -9) and stores each event once", async () => {
    const exported = await exportAll(source);
    const target = await startServices();
    try {
      const file = join(work, "killed.ndjson");
      await writeFile(file, exported);
      const checkpoint = await killImportMidway(target, file);
      const saved = JSON.parse(await readFile(checkpoint, "utf8")) as { lines: number; events: number; batch: number };
      expect(saved.batch).toBe(100);
      expect(saved.events).toBeGreaterThan(0);
      expect(saved.events).toBeLessThan(3000);
      // Without --batch: the resumed run keeps the killed one's 100, so the batch that may have been stored unnoted
      // goes again as the very same request.
      const resumed = await runCli([...target.flags, "import", file], { timeoutMs: 120_000 });
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(resumed.stderr).toContain(`resuming after line ${saved.lines}`);
      expect(eventsOf(await exportAll(target))).toEqual(eventsOf(exported));
    } finally {
      await target.stop();
    }
  }, 180_000);

  it("starts a file changed since an interrupted import over with that import's batch size", async () => {
    const exported = await exportAll(source);
    const target = await startServices();
    try {
      const file = join(work, "changed.ndjson");
      await writeFile(file, exported);
      await killImportMidway(target, file);
      // The same lines written again (a new mtime): the import starts over, and its batches must be the very requests
      // the killed run sent, or one would hold stored and new events at once, which the Event Store refuses.
      await writeFile(file, exported);
      const again = await runCli([...target.flags, "import", file], { timeoutMs: 120_000 });
      expect(again.code, again.stderr).toBe(0);
      expect(again.stderr).toContain("starting over");
      expect(eventsOf(await exportAll(target))).toEqual(eventsOf(exported));
    } finally {
      await target.stop();
    }
  }, 180_000);

  it("stops on Ctrl-C after a stored batch, says how to resume, and resumes", async () => {
    const exported = await exportAll(source);
    const target = await startServices();
    try {
      const file = join(work, "interrupted.ndjson");
      await writeFile(file, exported);
      const interrupted = await runCli([...target.flags, "import", file, "--batch", "100"], {
        stopWhen: { when: () => existsSync(`${file}.eskit-import`) },
        timeoutMs: 120_000,
      });
      expect(interrupted.code).toBe(130);
      expect(interrupted.stderr).toMatch(/interrupted after line \d+: run the same command again to resume/u);
      const resumed = await runCli([...target.flags, "import", file, "--batch", "100"], { timeoutMs: 120_000 });
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(eventsOf(await exportAll(target))).toEqual(eventsOf(exported));
    } finally {
      await target.stop();
    }
  }, 180_000);

  it("refuses a malformed file before storing anything: exit 2 and the line that is wrong", async () => {
    const target = await startServices();
    try {
      const good = parseLines(await exportAll(source)).slice(0, 10);
      const lines = good.map((l) => JSON.stringify(l));
      const broken = join(work, "broken.ndjson");
      await writeFile(broken, [...lines.slice(0, 5), '{"id":"1","event":{', ...lines.slice(5)].join("\n"));
      const result = await runCli([...target.flags, "import", broken]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/^eskit: line 6 is not a log entry: /u);
      const noIds = join(work, "no-ids.ndjson");
      await writeFile(noIds, lines.map((l) => l.replace(/"eventId":"[^"]+",?/u, "")).join("\n"));
      const withoutIds = await runCli([...target.flags, "import", noIds]);
      expect(withoutIds.code).toBe(2);
      expect(withoutIds.stderr).toContain("line 1 has no eventId");
      const missing = await runCli([...target.flags, "import", join(work, "absent.ndjson")]);
      expect(missing.code).toBe(2);
      expect(await exportAll(target)).toBe("");
    } finally {
      await target.stop();
    }
  }, 120_000);
});
