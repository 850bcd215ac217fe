import { createConsumerClient, createEventStoreClient } from "@eskit/client";
import { createNodeTransport } from "@eskit/client/node.js";
import { freePort } from "@eskit/test-kit/event-store.js";
import { sampleValue } from "@eskit/test-kit/exposition.js";
import { startMakeRun, summaryLine } from "@eskit/test-kit/make-run.js";
import { scrape } from "@eskit/test-kit/metrics.js";
import { describeWithTools, natsServer } from "@eskit/test-kit/system-tools.js";
import { describe, expect, it } from "vitest";
import { Appender, connectTestNats, natsUrl, streamProblem, uniqueStream, waitForStream } from "./harness.js";

// `make run` (scripts/run-system.ts) and the bridge: started after the other services when NATS_URL is set, with the
// Event Store it started as its source, its URL and metrics in the summary; not started, and the summary says how to
// start it, when NATS_URL is unset. Every port is a free one, so that a `make run` of the developer's cannot answer.

async function freePorts(): Promise<Record<string, string>> {
  const names = [
    "ESKIT_EVENT_STORE_PORT",
    "ESKIT_CRUD_STORE_PORT",
    "ESKIT_METRICS_CONSUMER_PORT",
    "ESKIT_CONSOLE_PORT",
    "ESKIT_JETSTREAM_BRIDGE_PORT",
  ];
  const ports: Record<string, string> = {};
  for (const name of names) ports[name] = String(await freePort());
  return ports;
}

/** The services that wrote `msg` (their JSON log lines), in order. */
function servicesLogging(output: string, msg: string): string[] {
  return output
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as { service?: string; msg?: string })
    .filter((entry) => entry.msg === msg)
    .map((entry) => entry.service ?? "");
}

describeWithTools([natsServer], "make run with NATS_URL", () => {
  it("starts a healthy bridge that puts every appended event on the stream, prints where it is, and stops it", async () => {
    const ports = await freePorts();
    const s = uniqueStream();
    const nc = await connectTestNats();
    const bridgeUrl = `http://127.0.0.1:${ports["ESKIT_JETSTREAM_BRIDGE_PORT"]}`;
    const system = await startMakeRun({
      ...ports,
      LOG_LEVEL: "info",
      NATS_URL: natsUrl,
      JETSTREAM_STREAM: s.stream,
      JETSTREAM_SUBJECT_PREFIX: s.prefix,
      // The Metrics Consumer's: the bridge must keep an offset of its own.
      CONSUMER_ID: "shell-consumer",
    });
    let stopped = false;
    try {
      const output = system.output();
      expect(summaryLine(output, "jetstream-bridge"), output).toBe(
        `${bridgeUrl} (the log onto stream ${s.stream} of ${natsUrl})`,
      );
      expect(summaryLine(output, "bridge metrics")).toBe(`${bridgeUrl}/metrics`);
      expect((await fetch(`${bridgeUrl}/healthz`)).status).toBe(200);
      expect(output).toContain('"service":"jetstream-bridge"');

      const transport = createNodeTransport({
        baseUrl: `http://127.0.0.1:${ports["ESKIT_EVENT_STORE_PORT"]}`,
        protocol: "grpc",
      });
      const log = new Appender(createEventStoreClient(transport));
      try {
        for (let i = 0; i < 5; i++) await log.append(4);
        // The fresh store's log is these appends alone: the stream must hold exactly them, once each, in order.
        const messages = await waitForStream(nc, s.stream, log.lastId);
        expect(streamProblem(messages, log.ids)).toBeUndefined();
        expect(messages.map((m) => m.eventType)).toEqual(log.ids.map((id) => log.types.get(id)));
        const samples = (await scrape(bridgeUrl)).samples;
        expect(sampleValue(samples, "eskit_jetstream_bridge_published_total", { stream: s.stream })).toBe(
          log.ids.length,
        );
        // Two offsets, each at the log's end: the bridge's under its default id, the Metrics Consumer's under the
        // shell's CONSUMER_ID.
        const consumers = createConsumerClient(transport);
        for (const id of ["jetstream-bridge", "shell-consumer"])
          await expect.poll(async () => (await consumers.getOffset(id))?.offset, { timeout: 15_000 }).toBe(log.lastId);
      } finally {
        transport.close();
      }

      expect(await system.stop(), system.output()).toBe(0);
      stopped = true;
      await expect(fetch(`${bridgeUrl}/healthz`)).rejects.toThrow();
      // Stopped before the Event Store it reads, so its final offset save reaches it.
      const stops = servicesLogging(system.output(), "stopping");
      expect(stops).toContain("jetstream-bridge");
      expect(stops.indexOf("jetstream-bridge")).toBeLessThan(stops.indexOf("event-store"));
    } finally {
      if (!stopped) await system.stop();
      await s.remove(nc);
      await nc.close();
    }
  }, 120_000);
});

describe("make run without NATS_URL", () => {
  it("starts no bridge, and says so and how to start one", async () => {
    const ports = await freePorts();
    const system = await startMakeRun({ ...ports, LOG_LEVEL: "info" });
    try {
      const output = system.output();
      expect(summaryLine(output, "jetstream-bridge"), output).toBe(
        "off: set NATS_URL to publish the log to NATS JetStream (NATS_URL=nats://127.0.0.1:4222 make run)",
      );
      expect(summaryLine(output, "bridge metrics")).toBeUndefined();
      await expect(fetch(`http://127.0.0.1:${ports["ESKIT_JETSTREAM_BRIDGE_PORT"]}/healthz`)).rejects.toThrow();
      // Not a line of the bridge's log (with NATS_URL, its lines name it: see above).
      expect(output).toContain('"service":"event-store"');
      expect(output).not.toContain('"service":"jetstream-bridge"');
    } finally {
      expect(await system.stop(), system.output()).toBe(0);
    }
  }, 120_000);
});
