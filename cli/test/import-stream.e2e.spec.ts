import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import * as http2 from "node:http2";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEventStoreClient } from "@eskit/client";
import { createNodeTransport } from "@eskit/client/node.js";
import { startTestEventStore, type TestEventStore } from "@eskit/test-kit/event-store.js";
import { sampleValue } from "@eskit/test-kit/exposition.js";
import { scrape } from "@eskit/test-kit/metrics.js";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "./support/run-cli.js";

// How `eskit import` reaches the Event Store: one AppendStream over HTTP/2 (each batch an Append, in file order),
// Appends one after the other when the server has no AppendStream, and what it says when the store refuses a batch.

let work: string;
let store: TestEventStore;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "eskit-import-"));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});
beforeEach(async () => {
  store = await startTestEventStore();
}, 60_000);
afterEach(async () => {
  await store?.stop();
});

/** One event of an import file. */
interface FileEvent {
  originator: { id: string; version: string };
  eventType: string;
  payload: string;
  eventId: string;
}

/**
 * An import file of `n` events over `originators` originators, each in version order; `special` may give a line an
 * originator and version of its own instead. With the events as `originator@version`, line by line.
 */
async function importFile(
  n: number,
  originators: number,
  special: (i: number, prefix: string) => { id: string; version: number } | undefined = () => undefined,
) {
  const prefix = randomUUID().slice(0, 8);
  const versions = new Map<string, number>();
  const events: FileEvent[] = Array.from({ length: n }, (_, i) => {
    const id = `o${i % originators}-${prefix}`;
    const own = special(i, prefix);
    const version = own?.version ?? (versions.get(id) ?? 0) + 1;
    if (own === undefined) versions.set(id, version);
    return {
      originator: { id: own?.id ?? id, version: String(version) },
      eventType: "Order.Placed",
      payload: JSON.stringify({ i }),
      eventId: randomUUID(),
    };
  });
  const file = join(work, `import-${prefix}.ndjson`);
  await writeFile(file, `${events.map((event, i) => JSON.stringify({ id: String(i + 1), event })).join("\n")}\n`);
  return { file, names: events.map((e) => `${e.originator.id}@${e.originator.version}`) };
}

/** The events of the store's log as `originator@version`, in log order. */
async function logOf(url: string): Promise<string[]> {
  const transport = createNodeTransport({ baseUrl: url, protocol: "grpc" });
  try {
    const out: string[] = [];
    for await (const page of createEventStoreClient(transport).pageLogs({ fromId: 1n, size: 1000 })) {
      out.push(...page.entries.map((e) => `${e.event?.originator?.id}@${e.event?.originator?.version}`));
    }
    return out;
  } finally {
    transport.close();
  }
}

/** Calls of one Event Store method, by outcome code, as its /metrics counts them. */
async function calls(method: string, code = "ok"): Promise<number> {
  const { samples } = await scrape(store.url);
  return (
    sampleValue(samples, "eskit_rpc_requests_total", {
      service: "eskit.eventstore.v1.EventStoreService",
      method,
      code,
    }) ?? 0
  );
}

describe("eskit import", () => {
  it("stores the batches over one AppendStream, in file order, with no Append", async () => {
    const { file, names } = await importFile(2500, 7);
    const result = await runCli(["--url", store.url, "import", file, "--batch", "200"], { timeoutMs: 60_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ file, events: "2500", lines: "2500" });
    expect(await logOf(store.url)).toEqual(names);
    expect(await calls("AppendStream")).toBe(1);
    expect(await calls("Append")).toBe(0);
  }, 90_000);

  it("sends one Append after the other with --no-stream", async () => {
    const { file, names } = await importFile(600, 4);
    const result = await runCli(["--url", store.url, "import", file, "--batch", "100", "--no-stream"], {
      timeoutMs: 60_000,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(await logOf(store.url)).toEqual(names);
    expect(await calls("Append")).toBe(6);
    expect(await calls("AppendStream")).toBe(0);
  }, 90_000);

  it("falls back to Appends one after the other on a server without AppendStream", async () => {
    const old = await olderServerBefore(store.port);
    try {
      const { file, names } = await importFile(1000, 3);
      const result = await runCli(["--url", old.url, "import", file, "--batch", "100"], { timeoutMs: 60_000 });
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual({ file, events: "1000", lines: "1000" });
      expect(old.refusedStreams()).toBe(1);
      expect(await logOf(store.url)).toEqual(names);
      expect(await calls("Append")).toBe(10);
      expect(await calls("AppendStream")).toBe(0);
    } finally {
      await old.close();
    }
  }, 90_000);

  it("names the lines of a batch the store refuses; the batches before it are stored and noted", async () => {
    // Line 25 takes the version line 5 took (x at version 1): the store refuses its batch, lines 21-30.
    const { file, names } = await importFile(50, 3, (i, prefix) =>
      i === 4 || i === 24 ? { id: `x-${prefix}`, version: 1 } : undefined,
    );
    const result = await runCli(["--url", store.url, "import", file, "--batch", "10"], { timeoutMs: 60_000 });
    expect(result.code, result.stderr).toBe(4);
    expect(result.stderr).toMatch(
      /eskit: aborted: originator "x-[0-9a-f]+" is at version 1: .* \(line 25, in the batch of lines 21-30: nothing of it is stored, every line before it is\)\n$/u,
    );
    expect(await logOf(store.url)).toEqual(names.slice(0, 20));
    const checkpoint = JSON.parse(await readFile(`${file}.eskit-import`, "utf8")) as { lines: number; events: number };
    expect(checkpoint).toMatchObject({ lines: 20, events: 20 });
  }, 90_000);
});

/**
 * A stand-in for an Event Store from before AppendStream, in front of `port`: HTTP/1.1 connections go through to the
 * store; HTTP/2 ones (where the CLI opens its stream) get 404, what such a server answers for a path it does not
 * serve (Connect clients read it as `unimplemented`).
 */
async function olderServerBefore(port: number) {
  let refused = 0;
  const h2 = http2.createServer((_req, res) => {
    refused++;
    res.writeHead(404);
    res.end();
  });
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.once("data", (first) => {
      socket.pause();
      if (first.subarray(0, 14).toString("latin1") === "PRI * HTTP/2.0") {
        socket.unshift(first);
        h2.emit("connection", socket);
        return;
      }
      const upstream = net.connect(port, "127.0.0.1");
      sockets.add(upstream);
      upstream.write(first);
      socket.pipe(upstream).pipe(socket);
      upstream.on("error", () => socket.destroy());
      socket.on("error", () => upstream.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    refusedStreams: () => refused,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
