import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { type Consumer, ListConsumersRequestSchema } from "@eskit/client";
import { wholeNumber } from "../args.js";
import { printRecord, printRows } from "../output.js";
import type { EskitCommand } from "./command.js";

/** A consumer with how far it is behind the head of the log. */
interface ConsumerRow {
  readonly id: string;
  readonly offset: bigint;
  readonly lag: bigint;
  readonly updatedAt: string;
}

function rowOf(consumer: Pick<Consumer, "consumerId" | "offset" | "updatedAt">, head: bigint): ConsumerRow {
  return {
    id: consumer.consumerId,
    offset: consumer.offset,
    // The offset is the last id the consumer handled: what lies after it, up to the head, is still to come.
    lag: head > consumer.offset ? head - consumer.offset : 0n,
    updatedAt: consumer.updatedAt === undefined ? "" : timestampDate(consumer.updatedAt).toISOString(),
  };
}

const rowJson = (row: ConsumerRow) => ({
  consumerId: row.id,
  offset: row.offset.toString(),
  lag: row.lag.toString(),
  updatedAt: row.updatedAt,
});

export const consumersList: EskitCommand = {
  command: "list",
  describe: "every consumer with its saved offset, how far it is behind the head of the log, and its last save",
  run: async (context) => {
    const { session, io, options } = context;
    const [answer, head] = await Promise.all([
      session.consumers(options).listConsumers(create(ListConsumersRequestSchema), { signal: session.signal }),
      session.head(options),
    ]);
    printRows(
      io,
      options.output,
      answer.consumers.map((c) => rowOf(c, head)),
      [
        { title: "consumer", value: (r) => r.id },
        { title: "offset", value: (r) => r.offset.toString() },
        { title: "lag", value: (r) => r.lag.toString() },
        { title: "updated at", value: (r) => r.updatedAt },
      ],
      rowJson,
    );
  },
};

export const consumersGet: EskitCommand = {
  command: "get <consumer>",
  describe: "one consumer's saved offset, lag and last save",
  builder: (yargs) => yargs.positional("consumer", { type: "string", describe: "the consumer id" }),
  run: async (context) => {
    const { session, io, options, args } = context;
    const id = String(args["consumer"]);
    const [answer, head] = await Promise.all([session.consumers(options).getOffset(id), session.head(options)]);
    if (answer === undefined) throw new ConnectError(`no consumer "${id}" has saved an offset`, Code.NotFound);
    printRecord(io, options.output, rowJson(rowOf({ consumerId: id, ...answer }, head)));
  },
};

export const consumersSet: EskitCommand = {
  command: "set <consumer> <offset>",
  describe: "save a consumer's offset (the last log id it has handled): to replay from an id, set it one below",
  builder: (yargs) =>
    yargs
      .positional("consumer", { type: "string", describe: "the consumer id" })
      .positional("offset", { type: "string", describe: "the last log id it has handled (0: none)" }),
  run: async ({ session, io, options, args }) => {
    const id = String(args["consumer"]);
    const offset = wholeNumber(args["offset"], "offset");
    await session.consumers(options).saveOffset(id, offset, { signal: session.signal });
    printRecord(io, options.output, { consumerId: id, offset: offset.toString() });
  },
};
