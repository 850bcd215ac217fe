import { create } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import {
  createConsumerClient,
  createEventStoreClient,
  GetHeadRequestSchema,
  type ConsumerClient,
  type EventStoreClient,
} from "@eskit/client";
import { logsPollEntryBytes } from "@eskit/client/lean-logs-poll.js";
import { createNodeTransport, type NodeTransport } from "@eskit/client/node.js";
import { CrudStoreService } from "@eskit/gen/eskit/crudstore/v1/crud_store_pb.js";
import { createClient } from "@connectrpc/connect";
import { UsageError } from "./exit-codes.js";

/** The options every command takes. */
export interface GlobalOptions {
  readonly url: string;
  readonly crudUrl: string;
  readonly token: string | undefined;
  readonly output: "json" | "table";
}

/**
 * What one run of `eskit` holds: its connections (opened on first use, closed when the run ends) and the signal
 * that Ctrl-C aborts, which every long call and loop listens to.
 */
export class Session {
  /** One per service URL and token: a command that makes several calls to a service makes one connection. */
  private readonly transports = new Map<string, NodeTransport>();
  private readonly interrupt = new AbortController();

  /** Aborted by Ctrl-C (SIGINT): long commands stop cleanly, saving what they must. */
  get signal(): AbortSignal {
    return this.interrupt.signal;
  }

  abort(): void {
    this.interrupt.abort();
  }

  eventStore(options: GlobalOptions): EventStoreClient {
    return createEventStoreClient(this.transport(options.url, options.token));
  }

  /**
   * The Event Store over HTTP/2 (cleartext with prior knowledge for http://, negotiated for https://): what a bidi
   * stream (AppendStream, for `import`) needs. Its own connection, next to the HTTP/1.1 one the other calls use.
   */
  eventStoreOverHttp2(options: GlobalOptions): EventStoreClient {
    return createEventStoreClient(this.transport(options.url, options.token, "2"));
  }

  /**
   * LogsPoll with its entries as protobuf bytes (see logsPollEntryBytes in @eskit/client): the transport is always
   * one this package's client made for protobuf binary.
   */
  logsPollEntryBytes(
    options: GlobalOptions,
    request: { fromId: bigint },
    signal: AbortSignal,
  ): AsyncIterable<Uint8Array[]> {
    const entries = logsPollEntryBytes(this.transport(options.url, options.token), request, { signal });
    if (entries === undefined) throw new Error("the session's transport does not speak protobuf binary");
    return entries;
  }

  /** The id of the newest entry of the Application Log (0 when it is empty). */
  async head(options: GlobalOptions): Promise<bigint> {
    const answer = await this.eventStore(options).getHead(create(GetHeadRequestSchema), { signal: this.signal });
    return answer.headId;
  }

  consumers(options: GlobalOptions): ConsumerClient {
    return createConsumerClient(this.transport(options.url, options.token));
  }

  crudStore(options: GlobalOptions): Client<typeof CrudStoreService> {
    return createClient(CrudStoreService, this.transport(options.crudUrl, options.token));
  }

  close(): void {
    for (const transport of this.transports.values()) transport.close();
    this.transports.clear();
  }

  /**
   * Connect's protocol, binary, over HTTP/1.1 by default: what passes every proxy; server streams work over it too,
   * bidi streams need HTTP/2.
   */
  private transport(url: string, token: string | undefined, httpVersion: "1.1" | "2" = "1.1"): NodeTransport {
    const key = `${url}\u0000${token ?? ""}\u0000${httpVersion}`;
    const known = this.transports.get(key);
    if (known !== undefined) return known;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new UsageError(`not a URL: ${JSON.stringify(url)} (e.g. http://127.0.0.1:8081)`);
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      throw new UsageError(`not an http(s) URL: ${JSON.stringify(url)}`);
    }
    const transport = createNodeTransport({
      baseUrl: url,
      protocol: "connect",
      binary: true,
      httpVersion,
      ...(token === undefined || token === "" ? {} : { token }),
    });
    this.transports.set(key, transport);
    return transport;
  }
}
