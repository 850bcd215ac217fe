import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { EventSchema } from "@eskit/client";
import { describe, expect, it } from "vitest";
import { eventView, payloadView } from "./event-view.js";

describe("payloadView", () => {
  it("indents a JSON payload by two spaces", () => {
    expect(payloadView('{"name":"Ada","tags":["x"]}')).toEqual({
      kind: "json",
      text: '{\n  "name": "Ada",\n  "tags": [\n    "x"\n  ]\n}',
    });
  });

  it("shows a payload that is not JSON as the raw text it is", () => {
    expect(payloadView("name=Ada; <b>bold</b>")).toEqual({ kind: "text", text: "name=Ada; <b>bold</b>" });
  });

  it("shows the empty payload as the {} it stands for", () => {
    expect(payloadView("")).toEqual({ kind: "empty", text: "{}" });
  });

  it("treats a JSON scalar as JSON", () => {
    expect(payloadView(" 42 ")).toEqual({ kind: "json", text: "42" });
  });
});

describe("eventView", () => {
  it("gives the version, type, time in ISO, event id, sorted metadata and payload", () => {
    const event = create(EventSchema, {
      originator: { id: "acme-1", version: 2n },
      eventType: "User.Renamed",
      payload: '{"name":"Ada"}',
      occurredOn: timestampFromDate(new Date("2025-03-04T05:06:07.089Z")),
      eventId: "0b6c1f8e-4a1c-4a51-9a55-6f3f6f1c2d3e",
      metadata: { tenant: "acme", actor: "ops" },
    });
    expect(eventView(event)).toEqual({
      version: 2n,
      eventType: "User.Renamed",
      occurredOn: "2025-03-04T05:06:07.089Z",
      eventId: "0b6c1f8e-4a1c-4a51-9a55-6f3f6f1c2d3e",
      metadata: [
        ["actor", "ops"],
        ["tenant", "acme"],
      ],
      payload: { kind: "json", text: '{\n  "name": "Ada"\n}' },
    });
  });

  it("leaves the time empty when the event carries none", () => {
    const event = create(EventSchema, { originator: { id: "acme-1", version: 1n }, eventType: "User.Created" });
    expect(eventView(event).occurredOn).toBe("");
  });
});
