import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { EventSchema } from "@eskit/gen/eskit/eventstore/v1/event_pb.js";
import { describe, expect, it } from "vitest";
import { VersionTakenError } from "../domain/errors.js";
import { appendFailure, toStoredEvent } from "./domain-conversion.js";

describe("the gateway's conversions to the core's types", () => {
  it("reads an Event Store event as a stored event, keeping its time as sent", () => {
    const occurredOn = timestampFromMs(1_700_000_000_123);
    const event = create(EventSchema, {
      originator: { id: "u1", version: 7n },
      eventType: "acme.User.Updated",
      payload: '{"a":1}',
      metadata: { "eskit.encoding": "document" },
      occurredOn,
    });
    expect(toStoredEvent(event)).toEqual({
      originatorId: "u1",
      version: 7n,
      eventType: "acme.User.Updated",
      payload: '{"a":1}',
      metadata: { "eskit.encoding": "document" },
      occurredOn,
    });
  });

  it("turns aborted on Append into VersionTakenError with the Event Store's message", () => {
    const aborted = new ConnectError('originator "u1" is at version 2: version 2 was already written', Code.Aborted);
    const failure = appendFailure(aborted);
    expect(failure).toBeInstanceOf(VersionTakenError);
    expect((failure as VersionTakenError).message).toBe(aborted.rawMessage);
    expect((failure as VersionTakenError).cause).toBe(aborted);
  });

  it("passes every other failure through as it is", () => {
    for (const code of [Code.Unavailable, Code.DeadlineExceeded, Code.Internal, Code.FailedPrecondition]) {
      const error = new ConnectError("no", code);
      expect(appendFailure(error)).toBe(error);
    }
    const plain = new Error("aborted");
    expect(appendFailure(plain)).toBe(plain);
  });
});
