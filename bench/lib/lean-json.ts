import * as http from "node:http";
import { encodePayload, type NewEvent } from "@eskit/client/new-event.js";

/**
 * A load generator's Connect JSON client for Append over HTTP/1.1, as curl and most HTTP clients call it: one
 * keep-alive connection of its own (an agent of one socket), a JSON POST, the answer read whole. Like the lean gRPC
 * client it spends as little CPU as it can, so that the client does not starve the server on two cores.
 */
export class LeanJsonAppender {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  private readonly url: URL;

  constructor(baseUrl: string) {
    this.url = new URL("/eskit.eventstore.v1.EventStoreService/Append", baseUrl);
  }

  /** Appends the events; resolves with how many were written, rejects with the Connect error otherwise. */
  append(events: readonly NewEvent[]): Promise<number> {
    const body = JSON.stringify({
      events: events.map((e) => ({
        originator: { id: e.originatorId, version: e.version.toString() },
        eventType: e.eventType,
        payload: encodePayload(e.payload),
        ...(e.metadata === undefined ? {} : { metadata: e.metadata }),
        ...(e.eventId === undefined ? {} : { eventId: e.eventId }),
      })),
    });
    return new Promise((resolve, reject) => {
      const request = http.request(
        this.url,
        {
          method: "POST",
          agent: this.agent,
          headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("end", () => {
            if (response.statusCode === 200) resolve(events.length);
            else reject(new Error(`Append failed: HTTP ${response.statusCode} ${Buffer.concat(chunks).toString()}`));
          });
          response.on("error", reject);
        },
      );
      request.on("error", reject);
      request.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
