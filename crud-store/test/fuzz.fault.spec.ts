/**
 * Fuzz test of every RPC of the Event Store and the Crud Store (ours and the v1 contracts, consumers, health) over
 * every wire format (Connect JSON, Connect binary, gRPC-Web, gRPC), with requests a hostile or broken client sends:
 * out-of-range numbers, NUL and lone surrogates, deep and huge JSON, wrong JSON types, corrupted binary, bad frames.
 * Whatever comes in, the answer is never `internal` or `unknown` (our faults), a refused request changes nothing,
 * nothing is logged at error level, and both processes are healthy after. `FUZZ_RUNS` sets the cases per RPC and
 * wire format (6 by default, 15 when `CI=true`), and `FUZZ_SEED` replays a failure with the seed fast-check printed.
 */
import * as http2 from "node:http2";
import { Writable } from "node:stream";
import type { DescService } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createEventStoreClient } from "@eskit/client";
import { CrudStoreService as CrudStoreServiceV1 } from "@eskit/gen/contracts/crudstore/service_pb.js";
import { ConsumerService as ConsumerServiceV1 } from "@eskit/gen/contracts/consumerstore/service_pb.js";
import { EventstoreService as EventstoreServiceV1 } from "@eskit/gen/contracts/eventstore/service_pb.js";
import { CrudStoreService } from "@eskit/gen/eskit/crudstore/v1/crud_store_pb.js";
import { ConsumerService } from "@eskit/gen/eskit/eventstore/v1/consumer_pb.js";
import { EventStoreService } from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import { Health } from "@eskit/gen/grpc/health/v1/health_pb.js";
import { createLogger } from "@eskit/server-kit/logger.js";
import { hostileBody } from "@eskit/test-kit/hostile-requests.js";
import { rawCall, type RawProtocol } from "@eskit/test-kit/raw-rpc.js";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEventStore } from "@eskit/event-store/app.js";
import { loadConfig as loadEventStoreConfig } from "@eskit/event-store/config.js";
import { createTestStorage, type TestStorage } from "@eskit/test-kit/event-store.js";
import { startCrudStore } from "../src/app.js";
import { loadConfig as loadCrudConfig } from "../src/config.js";
import { transportFor, healthz } from "./harness.js";

const defaultDeadlineMs = 5000;
const runs = Number(process.env["FUZZ_RUNS"] ?? (process.env["CI"] === "true" ? 15 : 6));
/** `FUZZ_SEED` replays a failure (fast-check prints the seed of each failing property). */
const seed = process.env["FUZZ_SEED"] === undefined ? {} : { seed: Number(process.env["FUZZ_SEED"]) };
const wireFormats: RawProtocol[] = ["connect-json", "connect-proto", "grpc-web", "grpc"];
/** Codes that mean a fault of ours, or no proper answer at all. */
const faultCode = /^(internal|unknown|reset-|http-5|no-trailer|grpc-status-)/u;
/** RPCs that may write: each of their refused cases is checked to have changed nothing. */
const writes = /Append|Save|Consume|Create|Update|Delete|Register/u;

interface Server {
  name: string;
  url: string;
  services: DescService[];
  errors: string[];
  close(): Promise<void>;
}

const servers: Server[] = [];
let storage: TestStorage;
let cases = 0;

function capture(errors: string[]) {
  return createLogger({
    level: "warn",
    destination: new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString("utf8").split("\n")) {
          if (line.includes('"level":"error"')) errors.push(line.slice(0, 500));
        }
        done();
      },
    }),
  });
}

beforeAll(async () => {
  storage = await createTestStorage();
  const esErrors: string[] = [];
  const eventStore = await startEventStore(
    { ...loadEventStoreConfig({}), port: 0, host: "127.0.0.1", defaultDeadlineMs, ...storage.config },
    capture(esErrors),
  );
  servers.push({
    name: "event-store",
    url: eventStore.url,
    services: [EventStoreService, ConsumerService, EventstoreServiceV1, ConsumerServiceV1, Health],
    errors: esErrors,
    close: () => eventStore.close(),
  });
  const crudErrors: string[] = [];
  const crudStore = await startCrudStore(
    { ...loadCrudConfig({}), port: 0, host: "127.0.0.1", defaultDeadlineMs, eventStoreUrl: eventStore.url },
    capture(crudErrors),
  );
  servers.unshift({
    name: "crud-store",
    url: crudStore.url,
    services: [CrudStoreService, CrudStoreServiceV1, Health],
    errors: crudErrors,
    close: () => crudStore.close(),
  });
  // Some state for the hostile requests to meet: a type, a document, events, an offset, a snapshot.
  const crud = createClient(CrudStoreService, transportFor(crudStore.url, "grpc"));
  await crud.registerType({ spec: { entityType: "acme.User", schemaSpec: { schemaVersion: 1n, jsonSchema: "{}" } } });
  await crud.create({ entityType: "acme.User", originator: { id: "a" }, payload: '{"name":"Ada"}' });
  const events = createEventStoreClient(transportFor(eventStore.url, "grpc"));
  await events.append({
    events: [{ originator: { id: "user-1", version: 1n }, eventType: "User.Created", payload: '{"n":1}' }],
  } as never);
}, 120_000);

afterAll(async () => {
  console.info(`fuzz: ${cases} hostile requests over ${runs} runs per RPC and wire format`);
  for (const server of servers) await server.close();
  await storage?.remove();
});

/** What the hostile requests must not change: the log, the offsets, the snapshots, the types. */
async function state(): Promise<string> {
  const es = servers.find((s) => s.name === "event-store")!.url;
  const call = async (path: string, body: string) =>
    (await fetch(`${es}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body })).text();
  return [
    await call("/eskit.eventstore.v1.EventStoreService/GetHead", "{}"),
    await call("/eskit.eventstore.v1.ConsumerService/ListConsumers", "{}"),
    await call("/eskit.eventstore.v1.EventStoreService/GetSnapshot", '{"originatorId":"a"}'),
    await call("/eskit.eventstore.v1.EventStoreService/GetSnapshot", '{"originatorId":"user-1"}'),
  ].join("\n");
}

describe("every service lists exactly the services this test covers", () => {
  it.each(["event-store", "crud-store"])("%s", async (name) => {
    const server = servers.find((s) => s.name === name)!;
    const health = createClient(Health, transportFor(server.url, "grpc"));
    const listed = Object.keys((await health.list({})).statuses).filter((s) => s !== "");
    const covered = server.services.map((s) => s.typeName).filter((s) => s !== Health.typeName);
    expect(listed.sort()).toEqual(covered.sort());
  });
});

describe.each(wireFormats)("hostile requests over %s", (protocol) => {
  let session: http2.ClientHttp2Session | undefined;
  const sessions: http2.ClientHttp2Session[] = [];
  afterAll(() => {
    for (const s of sessions) s.close();
  });

  const cells = [
    { name: "event-store", services: [EventStoreService, ConsumerService, EventstoreServiceV1, ConsumerServiceV1] },
    { name: "event-store", services: [Health] },
    { name: "crud-store", services: [CrudStoreService, CrudStoreServiceV1, Health] },
  ];
  for (const cell of cells) {
    for (const service of cell.services) {
      it(`${cell.name} ${service.typeName}: never internal, nothing changed by a refused request`, async () => {
        const server = servers.find((s) => s.name === cell.name)!;
        for (const method of service.methods) {
          if (protocol === "grpc") {
            // A session per RPC, with room: Node's HTTP/2 client keeps the unsent rest of every request the server
            // refused and reset until the session closes (about a dozen refused 5 MiB requests fill 64 MB, and the
            // client then resets its own streams with ENHANCE_YOUR_CALM); grpc-go and grpcio clients do not.
            session?.close();
            session = http2.connect(server.url, { maxSessionMemory: 512 });
            session.on("error", () => {});
            sessions.push(session);
          }
          const stream = method.methodKind !== "unary";
          // A bidi stream (AppendStream) needs HTTP/2 in every protocol; over HTTP/1.1 it is refused before its body.
          const overHttp2 = method.methodKind === "bidi_streaming";
          const path = `/${service.typeName}/${method.name}`;
          const checkEach = writes.test(method.name);
          const before = checkEach ? "" : await state();
          await fc.assert(
            fc.asyncProperty(hostileBody(method.input, protocol, stream), async (hostile) => {
              cases++;
              const baseline = checkEach ? await state() : before;
              // A stream that is accepted stays open: a short deadline ends it. Unary calls get the servers' default
              // deadline (5 s, enforced even on a handler that ignores its signal), so a slow answer on this shared
              // machine is deadline_exceeded, while no answer at all fails the test.
              const deadline: Record<string, string> = !stream
                ? {}
                : protocol.startsWith("connect")
                  ? { "connect-timeout-ms": "300" }
                  : { "grpc-timeout": "300m" };
              if (process.env["FUZZ_DEBUG"] !== undefined) console.info(`→ ${path} ${hostile.kind}`);
              const answer = await rawCall(server.url, path, {
                protocol,
                body: hostile.body,
                stream,
                http2: overHttp2,
                session: protocol === "grpc" ? session : undefined,
                headers: { ...hostile.headers, ...deadline },
                timeoutMs: 15_000,
              });
              const where = `${path} over ${protocol}, ${hostile.kind} (${hostile.body.length} bytes)`;
              if (process.env["FUZZ_DEBUG"] !== undefined) console.info(`${where}: ${answer.code}`);
              expect(answer.code, `${where}: ${answer.message}`).not.toMatch(faultCode);
              // A write whose deadline passed may still commit (see the README's Request limits), and a stream of
              // requests answered in part stored those parts: only a refusal outright must have changed nothing.
              const refused = answer.code !== "ok" && answer.code !== "deadline_exceeded" && answer.messages === 0;
              if (refused && checkEach) expect(await state(), where).toBe(baseline);
            }),
            { numRuns: runs, endOnFailure: true, ...seed },
          );
          if (!checkEach) expect(await state(), `${path} over ${protocol}`).toBe(before);
        }
        expect(server.errors).toEqual([]);
      }, 300_000);
    }
  }
});

describe("after the hostile requests", () => {
  it("both services are healthy, serve a normal call, and logged no error", async () => {
    for (const server of servers) {
      expect((await healthz(server.url)).status).toBe(200);
      expect(server.errors).toEqual([]);
    }
    const es = servers.find((s) => s.name === "event-store")!;
    const events = createEventStoreClient(transportFor(es.url, "grpc"));
    const appended = await events.append({
      events: [{ originator: { id: "after-fuzz", version: 1n }, eventType: "User.Created", payload: "{}" }],
    } as never);
    expect(appended.logIds).toHaveLength(1);
  });
});
