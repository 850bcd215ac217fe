/**
 * The page of the browser end-to-end test (browser.e2e.spec.ts): bundled for the browser with esbuild, it
 * talks to the event store through `@eskit/client` exactly as a web application would, and hands plain,
 * structured-clone-safe results (bigints as strings) back to the test through `window.eskitE2E`.
 */
import {
  Code,
  ConnectError,
  createConsumerClient,
  createEventStoreClient,
  createTransport,
  type WebProtocol,
} from "@eskit/client";

/** What the test passes to {@link scenario}. */
export interface ScenarioInput {
  baseUrl: string;
  protocol: WebProtocol;
  originatorId: string;
  consumerId: string;
  /** JSON text with non-ASCII characters and odd spacing; it must come back byte for byte. */
  payload: string;
}

/** A rejected call, as the page saw it. */
export interface CallFailure {
  isConnectError: boolean;
  /** Connect code name, e.g. "aborted". */
  code: string;
  message: string;
}

/** Everything {@link scenario} observed, in the order it did it. */
export interface ScenarioResult {
  logIds: string[];
  events: Array<{ originatorId: string; version: string; eventType: string; payload: string; eventId: string }>;
  stale: CallFailure | "succeeded";
  /** Versions GetEvents returns after the stale append: still 1 and 2. */
  versionsAfterStale: string[];
  /** LogsPoll entries received from the first log id: the two appended events, then one appended live. */
  polled: Array<{ id: string; originatorId: string; version: string; payload: string }>;
  /** How the stream ended after the page aborted its signal. */
  pollEnd: CallFailure | "ended without error";
  offsetBefore: string | "none";
  offsetAfter: { offset: string; hasUpdatedAt: boolean } | "none";
}

const codeName = (code: Code): string =>
  (Code[code] ?? String(code)).replace(/[A-Z]/g, (c, i: number) => (i === 0 ? c.toLowerCase() : `_${c.toLowerCase()}`));

function failure(err: unknown): CallFailure {
  const e = ConnectError.from(err);
  return { isConnectError: err instanceof ConnectError, code: codeName(e.code), message: e.rawMessage };
}

function transportFor(baseUrl: string, protocol: WebProtocol) {
  // Connect as JSON, gRPC-Web as protobuf binary: the two encodings a browser application would pick.
  return createTransport({ baseUrl, protocol, binary: protocol === "grpc-web" });
}

/** Append, GetEvents, a conflict, LogsPoll (catch-up and live, then aborted), and a consumer offset. */
async function scenario(input: ScenarioInput): Promise<ScenarioResult> {
  const transport = transportFor(input.baseUrl, input.protocol);
  const store = createEventStoreClient(transport);
  const consumers = createConsumerClient(transport);
  const id = input.originatorId;

  const logIds = await store.appendEvents([
    { originatorId: id, version: 1n, eventType: "Greeting.Said", payload: input.payload },
    { originatorId: id, version: 2n, eventType: "Greeting.Said", payload: input.payload, metadata: { lang: "ja" } },
  ]);

  const events = (await store.readEvents(id)).map((e) => ({
    originatorId: e.originator?.id ?? "",
    version: String(e.originator?.version),
    eventType: e.eventType,
    payload: e.payload,
    eventId: e.eventId,
  }));

  let stale: ScenarioResult["stale"] = "succeeded";
  try {
    await store.appendEvents([{ originatorId: id, version: 2n, eventType: "Greeting.Said", payload: '{"late":true}' }]);
  } catch (err) {
    stale = failure(err);
  }
  const versionsAfterStale = (await store.readEvents(id)).map((e) => String(e.originator?.version));

  const polled: ScenarioResult["polled"] = [];
  let pollEnd: ScenarioResult["pollEnd"] = "ended without error";
  const abort = new AbortController();
  const guard = setTimeout(() => abort.abort(new Error("LogsPoll did not deliver 3 entries within 5 s")), 5000);
  try {
    for await (const response of store.logsPoll({ fromId: BigInt(logIds[0]!) }, { signal: abort.signal })) {
      for (const entry of response.entries) {
        polled.push({
          id: String(entry.id),
          originatorId: entry.event?.originator?.id ?? "",
          version: String(entry.event?.originator?.version),
          payload: entry.event?.payload ?? "",
        });
      }
      if (polled.length === 2) {
        // Caught up; the stream stays open and must deliver an event appended now.
        await store.appendEvents([{ originatorId: id, version: 3n, eventType: "Greeting.Said", payload: "{}" }]);
      }
      if (polled.length >= 3) abort.abort();
    }
  } catch (err) {
    pollEnd = failure(err);
  } finally {
    clearTimeout(guard);
  }

  const before = await consumers.getOffset(input.consumerId);
  await consumers.saveOffset(input.consumerId, BigInt(polled.at(-1)?.id ?? "0"));
  const after = await consumers.getOffset(input.consumerId);

  return {
    logIds: logIds.map(String),
    events,
    stale,
    versionsAfterStale,
    polled,
    pollEnd,
    offsetBefore: before === undefined ? "none" : String(before.offset),
    offsetAfter:
      after === undefined ? "none" : { offset: String(after.offset), hasUpdatedAt: after.updatedAt !== undefined },
  };
}

/** One Append from this page's origin; for a page whose origin the store does not allow. */
async function appendOnce(
  input: Pick<ScenarioInput, "baseUrl" | "protocol" | "originatorId">,
): Promise<CallFailure | "succeeded"> {
  const store = createEventStoreClient(transportFor(input.baseUrl, input.protocol));
  try {
    await store.appendEvents([
      { originatorId: input.originatorId, version: 1n, eventType: "Greeting.Said", payload: "{}" },
    ]);
    return "succeeded";
  } catch (err) {
    return failure(err);
  }
}

const api = { scenario, appendOnce };
export type EskitE2E = typeof api;

declare global {
  interface Window {
    eskitE2E: EskitE2E;
  }
}

window.eskitE2E = api;
