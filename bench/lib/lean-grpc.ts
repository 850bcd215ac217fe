import * as http2 from "node:http2";
import { create, toBinary } from "@bufbuild/protobuf";
import { AppendRequestSchema } from "@eskit/gen/eskit/eventstore/v1/event_store_pb.js";
import { toEvent, type NewEvent } from "@eskit/client/new-event.js";

/**
 * A load generator's gRPC client for Append: one HTTP/2 connection, each call a bare gRPC request (5-byte frame
 * header + protobuf) with the status read from the trailers. It does what tools like ghz or h2load do: spend as
 * little CPU as possible, so that on a small machine the client does not starve the server it measures. (The
 * connect-es client of `@eskit/client` costs about as much CPU per call as the server does; the benchmark reports
 * it too.)
 */
export class LeanGrpcAppender {
  private readonly session: http2.ClientHttp2Session;

  constructor(baseUrl: string) {
    this.session = http2.connect(baseUrl);
    this.session.on("error", () => {});
  }

  /** Appends the events; resolves with how many were written, rejects with the gRPC status message otherwise. */
  append(events: readonly NewEvent[]): Promise<number> {
    const body = toBinary(AppendRequestSchema, create(AppendRequestSchema, { events: events.map(toEvent) }));
    const frame = Buffer.alloc(5 + body.length);
    frame.writeUInt32BE(body.length, 1);
    frame.set(body, 5);
    return new Promise((resolve, reject) => {
      const request = this.session.request({
        ":method": "POST",
        ":path": "/eskit.eventstore.v1.EventStoreService/Append",
        "content-type": "application/grpc+proto",
        te: "trailers",
      });
      let status: string | undefined;
      request.on("trailers", (trailers) => {
        status = String(trailers["grpc-status"]);
        if (status !== "0") reject(new Error(`Append failed: grpc-status ${status} ${String(trailers["grpc-message"])}`));
      });
      request.on("response", (headers) => {
        // A trailers-only response carries the status in the headers.
        if (headers["grpc-status"] !== undefined && headers["grpc-status"] !== "0") {
          reject(new Error(`Append failed: grpc-status ${String(headers["grpc-status"])} ${String(headers["grpc-message"])}`));
        }
      });
      request.on("data", () => {});
      request.on("end", () => (status === "0" ? resolve(events.length) : reject(new Error("Append ended without status"))));
      request.on("error", reject);
      request.end(frame);
    });
  }

  close(): void {
    this.session.close();
  }
}
