import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { consumerRows, isStalled, lagOf } from "./consumer-lag.js";

const now = Date.parse("2025-06-01T12:00:00.000Z");
const savedAgo = (ms: number) => timestampFromDate(new Date(now - ms));
const minute = 60_000;

describe("lagOf", () => {
  it("counts the ids after the offset up to the head, and nothing at or past the head", () => {
    expect(lagOf(70n, 100n)).toBe(30n);
    expect(lagOf(100n, 100n)).toBe(0n);
    expect(lagOf(120n, 100n)).toBe(0n);
  });

  it("keeps 64-bit offsets exact", () => {
    expect(lagOf(1n, 18446744073709551615n)).toBe(18446744073709551614n);
  });
});

describe("isStalled", () => {
  it("marks a consumer behind the head and silent past the threshold", () => {
    expect(isStalled(5n, new Date(now - minute - 1), now, minute)).toBe(true);
  });

  it("spares one that saved within the threshold", () => {
    expect(isStalled(5n, new Date(now - minute), now, minute)).toBe(false);
  });

  it("never marks one at the head, however old its save", () => {
    expect(isStalled(0n, new Date(now - 30 * minute), now, minute)).toBe(false);
  });

  it("marks one behind the head whose save time is unknown", () => {
    expect(isStalled(1n, undefined, now, minute)).toBe(true);
  });
});

describe("consumerRows", () => {
  const consumers = [
    { consumerId: "projector", offset: 100n, updatedAt: savedAgo(10 * minute) },
    { consumerId: "mailer", offset: 40n, updatedAt: savedAgo(5 * minute) },
    { consumerId: "indexer", offset: 90n, updatedAt: savedAgo(2_000) },
    { consumerId: "auditor", offset: 90n, updatedAt: savedAgo(3 * minute) },
  ];

  it("lists the furthest behind first, ties by id, each with its lag, save time and state", () => {
    const rows = consumerRows(consumers, 100n, now, minute);
    expect(rows.map((r) => [r.id, r.offset, r.lag, r.state])).toEqual([
      ["mailer", 40n, 60n, "stalled"],
      ["auditor", 90n, 10n, "stalled"],
      ["indexer", 90n, 10n, "catching up"],
      ["projector", 100n, 0n, "up to date"],
    ]);
    expect(rows[0]!.updatedAt?.toISOString()).toBe("2025-06-01T11:55:00.000Z");
  });

  it("names the projection of a consumer id that marks one, and of no other", () => {
    const rows = consumerRows(
      [
        { consumerId: "projection:orders-by-customer", offset: 100n, updatedAt: savedAgo(2 * minute) },
        { consumerId: "projection:stuck", offset: 70n, updatedAt: savedAgo(2 * minute) },
        { consumerId: "projections-mailer", offset: 100n, updatedAt: savedAgo(2_000) },
      ],
      100n,
      now,
      minute,
    );
    expect(rows.map((r) => [r.id, r.projection, r.lag, r.state])).toEqual([
      ["projection:stuck", "stuck", 30n, "stalled"],
      ["projection:orders-by-customer", "orders-by-customer", 0n, "up to date"],
      ["projections-mailer", undefined, 0n, "up to date"],
    ]);
  });

  it("follows the threshold it is given", () => {
    const rows = consumerRows(consumers, 100n, now, 10 * minute);
    expect(rows.filter((r) => r.state === "stalled")).toEqual([]);
  });
});
