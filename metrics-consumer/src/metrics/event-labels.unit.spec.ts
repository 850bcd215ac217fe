import { describe, expect, it } from "vitest";
import { eventLabels } from "./event-labels.js";

describe("eventLabels", () => {
  it("splits an event type at its last dot into the entity type and the action", () => {
    expect(eventLabels("acme.users.v1.User.Created")).toEqual({
      entityType: "acme.users.v1.User",
      eventType: "Created",
    });
    expect(eventLabels("User.Renamed")).toEqual({ entityType: "User", eventType: "Renamed" });
    expect(eventLabels("eskit.crudstore.EntityType.Registered")).toEqual({
      entityType: "eskit.crudstore.EntityType",
      eventType: "Registered",
    });
  });

  it("gives an event type without a dot an empty entity type instead of failing", () => {
    expect(eventLabels("Orphan")).toEqual({ entityType: "", eventType: "Orphan" });
  });
});
