/**
 * What projector-process.ts and rebuilder-process.ts (the processes the kill -9 tests kill) read from the environment
 * that projection-process.ts gives them, and open from it: a transport to the Event Store (ESKIT_URL), a pool on the
 * read model's database (PROJECTION_DATABASE_URL), and a logger of JSON lines on stderr, which a test shows when it
 * times out.
 */
import postgres, { type Sql } from "postgres";
import { createNodeTransport, type NodeTransport } from "../../src/node.js";
import type { ProjectionLogger } from "../../src/projection.js";

/** The environment variable `name`; throws when it is unset or empty. */
export function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") throw new Error(`${name} is not set`);
  return value;
}

export interface ProcessEnvironment {
  /** The options a projector and a rebuilder share. */
  readonly options: {
    readonly transport: NodeTransport;
    readonly database: Sql;
    /** PROJECTION_NAME and PROJECTION_SELECTOR. */
    readonly name: string;
    readonly selector: string;
    /** PROJECTION_BATCH_SIZE, 20 by default. */
    readonly batchSize: number;
    readonly lockRetryMs: number;
    readonly reconnect: { readonly initialDelayMs: number; readonly maxDelayMs: number };
    readonly logger: ProjectionLogger;
  };
  /** PROJECTION_SLEEP_MS in seconds: how long the handler sleeps in each batch's transaction; 0 by default. */
  readonly sleepSeconds: number;
  /** Closes the transport and the pool. */
  close(): Promise<void>;
}

export function fromEnvironment(): ProcessEnvironment {
  const sql = postgres(required("PROJECTION_DATABASE_URL"), { max: 4, onnotice: () => {} });
  const transport = createNodeTransport({ baseUrl: required("ESKIT_URL"), protocol: "grpc" });
  const line = (level: string) => (fields: object, message: string) =>
    process.stderr.write(`${JSON.stringify({ level, message, ...fields })}\n`);
  return {
    options: {
      transport,
      database: sql,
      name: required("PROJECTION_NAME"),
      selector: required("PROJECTION_SELECTOR"),
      batchSize: Number(process.env["PROJECTION_BATCH_SIZE"] ?? "20"),
      lockRetryMs: 100,
      reconnect: { initialDelayMs: 10, maxDelayMs: 200 },
      logger: { info: line("info"), warn: line("warn"), error: line("error") },
    },
    sleepSeconds: Number(process.env["PROJECTION_SLEEP_MS"] ?? "0") / 1000,
    async close() {
      transport.close();
      await sql.end({ timeout: 5 });
    },
  };
}
