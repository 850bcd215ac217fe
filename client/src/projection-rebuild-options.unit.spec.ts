import { describe, expect, it } from "vitest";
import { createTransport } from "./transport.js";
import { rebuildName, resolveRebuildOptions, type RebuildOptions } from "./projection-rebuild-options.js";

const transport = createTransport({ baseUrl: "http://127.0.0.1:1", protocol: "connect" });
const base: RebuildOptions<unknown> = { transport, name: "orders", handle: () => {}, tables: ["orders", "lines"] };

describe("resolveRebuildOptions", () => {
  it("runs under a name and lock of its own, reports nothing, and keeps the live projection's settings", () => {
    const r = resolveRebuildOptions({ ...base, version: "2", selector: "Order.*", batchSize: 50 });
    expect(r.live).toBe("orders");
    expect(rebuildName("orders")).toBe("orders#rebuild");
    expect(r.o).toMatchObject({ name: "orders#rebuild", version: "2", batchSize: 50 });
    expect(r.o.follow.selector).toBe("Order.*");
    expect(r.o.report.consumerId).toBeUndefined();
    expect(r).toMatchObject({ startOver: false, switchLockTimeoutMs: 1000 });
  });

  it("names the fresh tables <table>__rebuild, in the table's schema, and refuses any table not listed", () => {
    const r = resolveRebuildOptions({ ...base, tables: ["orders", "reporting.totals"] });
    expect(r.freshName("orders")).toBe("orders__rebuild");
    expect(r.freshName("reporting.totals")).toBe("reporting.totals__rebuild");
    expect(r.tables[1]).toEqual({
      base: "reporting.totals",
      fresh: "reporting.totals__rebuild",
      schema: "reporting",
      table: "totals",
      freshTable: "totals__rebuild",
    });
    expect(() => r.freshName("lines")).toThrow(/table "lines" is not in `tables`/);
  });

  it("refuses tables it could not rename: none, twice, empty parts, too long for PostgreSQL", () => {
    expect(() => resolveRebuildOptions({ ...base, tables: [] })).toThrow(TypeError);
    expect(() => resolveRebuildOptions({ ...base, tables: ["orders", "orders"] })).toThrow(/twice/);
    expect(() => resolveRebuildOptions({ ...base, tables: ["a.b.c"] })).toThrow(/"table" or "schema.table"/);
    expect(() => resolveRebuildOptions({ ...base, tables: [".orders"] })).toThrow(/"table" or "schema.table"/);
    // 54 bytes + "__rebuild" = 63, PostgreSQL's limit; one more would be truncated into another name.
    expect(resolveRebuildOptions({ ...base, tables: ["t".repeat(54)] }).tables[0]!.freshTable).toHaveLength(63);
    expect(() => resolveRebuildOptions({ ...base, tables: ["t".repeat(55)] })).toThrow(/over PostgreSQL's 63 bytes/);
    expect(() => resolveRebuildOptions({ ...base, tables: ["é".repeat(28)] })).toThrow(/63 bytes/);
  });

  it("refuses a name that leaves no room for #rebuild, and the live projection's bad settings", () => {
    expect(() => resolveRebuildOptions({ ...base, name: "n".repeat(248) })).toThrow(/at most 247 characters/);
    expect(resolveRebuildOptions({ ...base, name: "n".repeat(247) }).o.name).toHaveLength(255);
    expect(() => resolveRebuildOptions({ ...base, batchSize: 0 })).toThrow(RangeError);
    expect(() => resolveRebuildOptions({ ...base, version: "a\u0000" })).toThrow(/version/);
    expect(() => resolveRebuildOptions({ ...base, switchLockTimeoutMs: 0 })).toThrow(/switchLockTimeoutMs/);
  });
});
