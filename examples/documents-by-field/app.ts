/**
 * The whole example in one call: the projection and the query API over one PostgreSQL client. main.ts runs it as a
 * process; the tests also run it inside theirs.
 */
import type { ProjectionLogger, Projection } from "@eskit/client/projection.js";
import { createNodeTransport } from "@eskit/client/node.js";
import postgres from "postgres";
import type { ExampleConfig } from "./config.js";
import { projectCustomers } from "./customers-projection.js";
import { startQueryApi, type QueryApi } from "./query-api.js";

/** The running example. */
export interface DocumentsByField {
  /** The query API's `http://host:port`. */
  readonly url: string;
  readonly projection: Projection;
  /** Stops the projection (the batch in flight commits or rolls back whole), the API, then the connections. */
  stop(): Promise<void>;
}

/** Starts projecting and serving; resolves once the API listens (the projection catches up in the background). */
export async function startDocumentsByField(
  config: ExampleConfig,
  logger: ProjectionLogger,
): Promise<DocumentsByField> {
  // fetch_types: false, as docs/consumers.md advises: the read model needs no arrays of custom types.
  const sql = postgres(config.databaseUrl, { max: 4, fetch_types: false, onnotice: () => {} });
  const transport = createNodeTransport({
    baseUrl: config.eventStoreUrl,
    protocol: "grpc",
    ...(config.token === undefined ? {} : { token: config.token }),
  });
  const projection = projectCustomers({
    transport,
    database: sql,
    entityType: config.entityType,
    batchSize: config.batchSize,
    logger,
  });
  const close = async () => {
    transport.close();
    await sql.end({ timeout: 5 });
  };
  let api: QueryApi;
  try {
    api = await startQueryApi({
      sql,
      projection,
      host: config.host,
      port: config.port,
      onError: (error) => logger.error({ err: messageOf(error) }, "query failed"),
    });
  } catch (error) {
    await projection.stop().catch(() => {});
    await close();
    throw error;
  }
  return {
    url: api.url,
    projection,
    async stop() {
      await projection.stop().catch(() => {});
      await api.close();
      await close();
    },
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
