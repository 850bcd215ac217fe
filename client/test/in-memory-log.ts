/**
 * An Application Log and its consumer offsets kept in memory, for the consumer's unit tests: LogsPoll streams
 * catch-up then live entries as the real store does, and tests script what the network does to it (a stream that
 * fails with a code after some messages, or ends) and watch what the client asked for (every LogsPoll `from_id`,
 * every saved offset, how many streams are open).
 */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createRouterTransport, type HandlerContext, type Transport } from "@connectrpc/connect";
import { ConsumerService } from "@eskit/gen/eskit/eventstore/v1/consumer_pb.js";
import {
  AppLogEntrySchema,
  EventSchema,
  OriginatorSchema,
  type AppLogEntry,
} from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import { EventStoreService, LogsPollResponseSchema } from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";

/** What the next LogsPoll stream does after sending `afterMessages` messages: fail with `code`, or end cleanly. */
export interface StreamFault {
  afterMessages: number;
  code?: Code;
}

export interface InMemoryLog {
  /** Appends `count` entries (ids consecutive from the last, unless `gap` skips some first); returns their ids. */
  append(count: number, gap?: bigint): bigint[];
  /** Faults applied to the next streams, one each, in order. */
  readonly streamFaults: StreamFault[];
  /** The `from_id` of every LogsPoll request, in order. */
  readonly pollFromIds: bigint[];
  /** Every offset saved, in order, per consumer. */
  readonly savedOffsets: Map<string, bigint[]>;
  /** The current offsets, which tests may set before a consumer starts. */
  readonly offsets: Map<string, bigint>;
  /** LogsPoll streams the server has not seen end yet. */
  readonly openStreams: number;
  /** When set, SaveOffset fails with the code it returns (undefined = succeed). */
  saveFault: ((offset: bigint) => Code | undefined) | undefined;
  /** Codes the next GetOffset / GetHead calls fail with, one each, in order. */
  readonly startFaults: Code[];
  /** Resolves once no LogsPoll stream is open on the server. */
  whenStreamsClosed(): Promise<void>;
  /** Entries per LogsPoll message. */
  chunkSize: number;
  transport(): Transport;
}

export function entry(id: bigint): AppLogEntry {
  return create(AppLogEntrySchema, {
    id,
    event: create(EventSchema, {
      eventType: "Account.Deposited",
      payload: "{}",
      originator: create(OriginatorSchema, { id: `acct-${id}`, version: 1n }),
    }),
  });
}

export function inMemoryLog(): InMemoryLog {
  const entries: AppLogEntry[] = [];
  let waiters: Array<() => void> = [];
  let open = 0;
  let closedWaiters: Array<() => void> = [];
  const log: InMemoryLog = {
    append(count, gap = 0n) {
      let next = (entries.at(-1)?.id ?? 0n) + 1n + gap;
      const ids: bigint[] = [];
      for (let i = 0; i < count; i++, next++) {
        entries.push(entry(next));
        ids.push(next);
      }
      const woken = waiters;
      waiters = [];
      for (const wake of woken) wake();
      return ids;
    },
    streamFaults: [],
    pollFromIds: [],
    savedOffsets: new Map(),
    offsets: new Map(),
    get openStreams() {
      return open;
    },
    saveFault: undefined,
    startFaults: [],
    whenStreamsClosed() {
      return open === 0 ? Promise.resolve() : new Promise((resolve) => closedWaiters.push(resolve));
    },
    chunkSize: 3,
    transport() {
      return createRouterTransport(({ service }) => {
        service(EventStoreService, {
          getHead() {
            failIfScripted();
            return { headId: entries.at(-1)?.id ?? 0n };
          },
          async *logsPoll(request, ctx) {
            log.pollFromIds.push(request.fromId);
            if (request.selector === "bad selector") {
              throw new ConnectError("selector: not a selector", Code.InvalidArgument);
            }
            const fault = log.streamFaults.shift();
            // A stream counts as open until the server sees it end: its signal aborts (the client cancelled, or
            // the call finished), or the handler returns, which it never does while suspended at a `yield`.
            open++;
            let closed = false;
            const close = () => {
              if (closed) return;
              closed = true;
              open--;
              if (open === 0) {
                const woken = closedWaiters;
                closedWaiters = [];
                for (const wake of woken) wake();
              }
            };
            ctx.signal.addEventListener("abort", close, { once: true });
            try {
              let position = request.fromId;
              let sent = 0;
              for (;;) {
                if (fault !== undefined && sent >= fault.afterMessages) {
                  if (fault.code === undefined) return;
                  throw new ConnectError("injected fault", fault.code);
                }
                const ready = entries.filter((e) => e.id >= position).slice(0, log.chunkSize);
                if (ready.length === 0) {
                  if (!(await newEntriesOrAbort(ctx))) return;
                  continue;
                }
                position = ready.at(-1)!.id + 1n;
                sent++;
                yield create(LogsPollResponseSchema, { entries: ready });
              }
            } finally {
              close();
            }
          },
        });
        service(ConsumerService, {
          saveOffset(request) {
            const code = log.saveFault?.(request.offset);
            if (code !== undefined) throw new ConnectError("injected save fault", code);
            log.offsets.set(request.consumerId, request.offset);
            log.savedOffsets.set(request.consumerId, [
              ...(log.savedOffsets.get(request.consumerId) ?? []),
              request.offset,
            ]);
            return {};
          },
          getOffset(request) {
            failIfScripted();
            const offset = log.offsets.get(request.consumerId);
            if (offset === undefined) throw new ConnectError(`no consumer ${request.consumerId}`, Code.NotFound);
            return { offset, updatedAt: timestampFromDate(new Date(0)) };
          },
          listConsumers() {
            return { consumers: [] };
          },
        });
      });
    },
  };

  function failIfScripted(): void {
    const code = log.startFaults.shift();
    if (code !== undefined) throw new ConnectError("injected start-up fault", code);
  }

  function newEntriesOrAbort(ctx: HandlerContext): Promise<boolean> {
    return new Promise((resolve) => {
      if (ctx.signal.aborted) return resolve(false);
      const onAbort = () => resolve(false);
      ctx.signal.addEventListener("abort", onAbort, { once: true });
      waiters.push(() => {
        ctx.signal.removeEventListener("abort", onAbort);
        resolve(true);
      });
    });
  }

  return log;
}
