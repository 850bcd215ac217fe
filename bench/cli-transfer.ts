import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, open, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { create, fromJsonString } from "@bufbuild/protobuf";
import { AppendRequestSchema, AppLogEntrySchema, createEventStoreClient, type Event } from "@eskit/client";
import { createNodeTransport } from "@eskit/client/node.js";
import { type BenchConfig, describeConfig, loadBenchConfig } from "./lib/config.js";
import { startBenchServer } from "./lib/event-store-server.js";
import { createFreshDatabase } from "./lib/fresh-database.js";
import { isMain } from "./lib/is-main.js";
import { count, ratio } from "./lib/stats.js";
import { printTable, progress } from "./lib/table.js";

const bin = fileURLToPath(new URL("../cli/bin/eskit.mjs", import.meta.url));
const events = Number(process.env["BENCH_CLI_EVENTS"] ?? 100_000);
const batch = 1000;

/**
 * Benchmark 5: `eskit export` and `eskit import` (issue 13: ≥ 100,000 and ≥ 30,000 events/s), run as a user runs
 * them (the executable, a file, a fresh Event Store on a fresh database); import twice, over its AppendStream and with
 * `--no-stream` (Appends one after the other), each into a store of its own. Baselines, in the same run: the same log
 * paged through `@eskit/client` in this process without writing it anywhere (what the store gives), and the same
 * events appended from this process in 1000-event Appends, one after the other (what the store takes).
 */
export async function cliTransfer(config: BenchConfig): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), "eskit-bench-cli-"));
  const source = join(work, "events.ndjson");
  const lines: string[] = [];
  for (let i = 0; i < events; i++) {
    const event = {
      originator: { id: `order-${i % 1000}`, version: String(Math.floor(i / 1000) + 1) },
      eventType: i % 10 === 0 ? "Order.Cancelled" : "Order.Placed",
      payload: JSON.stringify({ i, sku: `sku-${i % 97}`, quantity: (i % 7) + 1, note: "x".repeat(120) }),
      eventId: randomUUID(),
      occurredOn: new Date(Date.UTC(2026, 0, 1) + i).toISOString(),
      metadata: { source: "bench" },
    };
    lines.push(JSON.stringify({ id: String(i + 1), event }));
  }
  await writeFile(source, `${lines.join("\n")}\n`);
  const rows: string[][] = [];
  const databases = await Promise.all([
    createFreshDatabase(config.databaseUrl, "cli"),
    createFreshDatabase(config.databaseUrl, "cli_base"),
    createFreshDatabase(config.databaseUrl, "cli_seq"),
  ]);
  const [store, baseStore, oneByOneStore] = await Promise.all(databases.map((db) => startBenchServer(config, db.url)));
  try {
    progress(`cli: eskit import of ${events} events`);
    let importWork = 0;
    const imported = await timed(async () => {
      importWork = await runEskit(["--url", store!.url, "import", source], undefined);
    });
    progress(`cli: eskit import --no-stream of ${events} events`);
    let oneByOneWork = 0;
    const oneByOne = await timed(async () => {
      oneByOneWork = await runEskit(["--url", oneByOneStore!.url, "import", source, "--no-stream"], undefined);
    });
    progress("cli: baseline, the same batches appended from this process");
    const appended = await timed(() => appendBatches(baseStore!.url, lines));
    progress("cli: eskit export");
    const exportFile = join(work, "export.ndjson");
    let exportWork = 0;
    const exported = await timed(async () => {
      exportWork = await runEskit(["--url", store!.url, "export"], exportFile);
    });
    progress("cli: baseline, the log paged through @eskit/client");
    const paged = await timed(() => pageAll(store!.url));
    const rate = (ms: number) => (events / ms) * 1000;
    const row = (command: string, work: number, whole: number, baseline: number, target: number) => [
      command,
      count(rate(work)),
      count(rate(whole)),
      count(rate(baseline)),
      ratio(rate(work), rate(baseline)),
      `≥ ${count(target)} ${rate(work) >= target ? "✓" : "✗"}`,
    ];
    rows.push(row("import", importWork, imported, appended, 30_000));
    rows.push(row("import --no-stream", oneByOneWork, oneByOne, appended, 30_000));
    rows.push(row("export", exportWork, exported, paged, 100_000));
  } finally {
    await Promise.all([store?.stop(), baseStore?.stop(), oneByOneStore?.stop()]);
    await Promise.all(databases.map((db) => db.drop()));
    await rm(work, { recursive: true, force: true });
  }
  printTable(
    "5. eskit export and import (events/s)",
    [
      { title: "command" },
      { title: "eskit ev/s" },
      { title: "with start-up" },
      { title: "baseline ev/s" },
      { title: "eskit ÷ baseline" },
      { title: "target (issue 13)", align: "left" },
    ],
    rows,
    [
      `${count(events)} events of ~250 bytes over 1000 originators; the executable run as a child process, its standard output a file (as a shell redirection makes it); eskit ev/s = the rate the command reports for its work (its last line on stderr), "with start-up" = over the whole run of the process (loading its TypeScript through tsx takes about 0.5-0.8 s here)`,
      "import sends its 5000-event batches over one AppendStream (Connect, binary, HTTP/2; up to 3 unanswered, each written once the one before committed); import --no-stream, into a third fresh store, sends them as Appends one after the other over HTTP/1.1 (what import did before AppendStream, and does against a server without it)",
      "baselines, this process through @eskit/client (Connect, binary, HTTP/1.1): import = the same events in 1000-event Appends one after the other into a second fresh store; export = Logs pages of 1000 from the same store, decoded, written nowhere",
      describeConfig(config),
    ],
  );
}

async function timed(run: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

/**
 * Runs `eskit`; resolves to the time the command reports for its work (from its last line on stderr), in ms. With
 * `stdoutFile` its standard output is that file, opened here and handed to it as a user's `> file` does (a pipe read
 * by this process would pace the command by how fast this process reads), and the file is checked once it exits.
 */
async function runEskit(args: readonly string[], stdoutFile: string | undefined): Promise<number> {
  const output = stdoutFile === undefined ? "ignore" : await open(stdoutFile, "w");
  try {
    const stderr = await new Promise<string>((resolve, reject) => {
      const stdout = output === "ignore" ? "ignore" : output.fd;
      const child = spawn(process.execPath, [bin, ...args], { stdio: ["ignore", stdout, "pipe"] });
      let text = "";
      child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
      child.once("error", reject);
      child.once("close", (code) =>
        code === 0 ? resolve(text) : reject(new Error(`eskit ${args.join(" ")} exited with ${code}: ${text}`)),
      );
    });
    const reported = /(?:imported|exported) [\d,]+ events in ([\d.]+) s/u.exec(stderr);
    if (reported === null) throw new Error(`eskit ${args.join(" ")} reported no time: ${stderr}`);
    if (stdoutFile !== undefined) {
      const count = (await readFile(stdoutFile, "utf8")).split("\n").length - 1;
      if (count !== events) throw new Error(`eskit export wrote ${count} lines, not ${events}`);
    }
    return Number(reported[1]) * 1000;
  } finally {
    if (output !== "ignore") await output.close();
  }
}

async function appendBatches(url: string, lines: readonly string[]): Promise<void> {
  const transport = createNodeTransport({ baseUrl: url, protocol: "connect", binary: true, httpVersion: "1.1" });
  try {
    const client = createEventStoreClient(transport);
    for (let i = 0; i < lines.length; i += batch) {
      const slice: Event[] = lines.slice(i, i + batch).map((l) => fromJsonString(AppLogEntrySchema, l).event!);
      await client.append(create(AppendRequestSchema, { events: slice }));
    }
  } finally {
    transport.close();
  }
}

async function pageAll(url: string): Promise<void> {
  const transport = createNodeTransport({ baseUrl: url, protocol: "connect", binary: true, httpVersion: "1.1" });
  try {
    let seen = 0;
    for await (const page of createEventStoreClient(transport).pageLogs({ fromId: 1n, size: 1000 })) {
      seen += page.entries.length;
    }
    if (seen !== events) throw new Error(`paged ${seen} entries, not ${events}`);
  } finally {
    transport.close();
  }
}

if (isMain(import.meta.url)) await cliTransfer(loadBenchConfig());
