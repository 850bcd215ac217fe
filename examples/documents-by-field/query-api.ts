/**
 * The query API, plain HTTP and JSON:
 *
 * - `GET /customers?country=FR&plan=pro` → `{"customers":[{"id","version","document"}],"next"}`: the documents whose
 *   indexed fields (customers-table.ts) hold exactly these strings, in id order, `limit` (1–1000, default 100) per
 *   page; `after=<next>` gives the next page. An unknown parameter is refused (400), so a typo never widens a query;
 *   503 until the projection has created the table.
 * - `GET /status` → the projection's status: its position (the last log entry applied), the log's head, the lag,
 *   the last error.
 * - `GET /healthz` → 200 while the server runs.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Projection } from "@eskit/client/projection.js";
import type { ISql } from "postgres";
import { indexedFields, type IndexedField } from "./customers-table.js";
import { findCustomers, maxPageSize, type CustomerFilter } from "./find-customers.js";

/** A running query API. */
export interface QueryApi {
  /** `http://host:port` */
  readonly url: string;
  close(): Promise<void>;
}

const defaultPageSize = 100;

/** Serves the read model of `sql` and the status of `projection` on `host:port` (0 = any free port). */
export async function startQueryApi(options: {
  readonly sql: ISql;
  readonly projection: Projection;
  readonly host: string;
  readonly port: number;
  readonly onError: (error: unknown) => void;
}): Promise<QueryApi> {
  const server = createServer((request, response) => {
    route(options, request, response).catch((error: unknown) => {
      options.onError(error);
      send(response, 500, { error: "the read model could not be queried" });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return { url: `http://${options.host}:${port}`, close: () => close(server) };
}

async function route(
  options: { readonly sql: ISql; readonly projection: Projection },
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const url = new URL(request.url ?? "/", "http://localhost");
  if (request.method !== "GET") return send(response, 405, { error: "only GET" });
  switch (url.pathname) {
    case "/customers": {
      const query = parseQuery(url.searchParams);
      if ("error" in query) return send(response, 400, query);
      try {
        return send(response, 200, await findCustomers(options.sql, query.filter, query.page));
      } catch (error) {
        // undefined_table: the projection creates the table when it first takes hold (see its setup).
        if ((error as { code?: unknown }).code !== "42P01") throw error;
        return send(response, 503, { error: "the read model is not built yet: the projection creates it at start" });
      }
    }
    case "/status":
      return send(response, 200, options.projection.status());
    case "/healthz":
      return send(response, 200, { status: "ok" });
    default:
      return send(response, 404, { error: `no ${url.pathname}: try /customers?country=FR&plan=pro` });
  }
}

/** The filter and page of `/customers`, or what is wrong with the query string. */
function parseQuery(
  params: URLSearchParams,
): { filter: CustomerFilter; page: { after?: string; limit: number } } | { error: string } {
  const filter: CustomerFilter = {};
  let after: string | undefined;
  let limit = defaultPageSize;
  for (const name of new Set(params.keys())) {
    const values = params.getAll(name);
    if (values.length > 1) return { error: `${name} is given ${values.length} times` };
    const value = values[0]!;
    if ((indexedFields as readonly string[]).includes(name)) {
      filter[name as IndexedField] = value;
    } else if (name === "after") {
      after = value;
    } else if (name === "limit") {
      limit = Number(value);
      if (!Number.isInteger(limit) || limit < 1 || limit > maxPageSize) {
        return { error: `limit must be an integer from 1 to ${maxPageSize}` };
      }
    } else {
      return { error: `unknown parameter ${JSON.stringify(name)}: use ${indexedFields.join(", ")}, after, limit` };
    }
  }
  return { filter, page: { ...(after === undefined ? {} : { after }), limit } };
}

/** Writes `body` as JSON; bigints (versions, log ids) as decimal strings, as the protobuf JSON mapping does. */
function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, (_key, value: unknown) => (typeof value === "bigint" ? String(value) : value));
  response.writeHead(status, { "content-type": "application/json" }).end(text);
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
