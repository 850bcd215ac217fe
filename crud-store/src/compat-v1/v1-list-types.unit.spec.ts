import { describe, expect, it } from "vitest";
import type { TypeRegistry, TypeSpec } from "../registry/type-registry.js";
import { listTypesV1, maxV1Types } from "./v1-list-types.js";

const scope = { signal: new AbortController().signal, timeoutMs: undefined };

/** A registry of `count` types that answers pages of at most `pageSize`, counting its calls. */
function fakeRegistry(count: number, pageSize: number): { registry: TypeRegistry; calls: number[] } {
  const specs: TypeSpec[] = Array.from({ length: count }, (_, i) => ({
    entityType: `t.T${String(i).padStart(6, "0")}`,
    schemaVersion: 1n,
    jsonSchema: "",
  }));
  const calls: number[] = [];
  const registry = {
    list(limit: number, pageToken: string) {
      calls.push(limit);
      const from = pageToken === "" ? 0 : Number(pageToken);
      const to = Math.min(from + Math.min(limit, pageSize), count);
      return Promise.resolve({ specs: specs.slice(from, to), nextPageToken: to < count ? String(to) : "" });
    },
  } as unknown as TypeRegistry;
  return { registry, calls };
}

describe("v1 ListTypes", () => {
  it("follows the registry's pages to return every type when limit is 0", async () => {
    const { registry } = fakeRegistry(2500, 1000);
    const specs = await listTypesV1(registry, 0, scope);
    expect(specs).toHaveLength(2500);
    expect(specs.at(-1)?.entityType).toBe("t.T002499");
  });

  it("stops at limit across pages", async () => {
    const { registry, calls } = fakeRegistry(2500, 1000);
    const specs = await listTypesV1(registry, 1200, scope);
    expect(specs.map((s) => s.entityType)).toEqual(
      Array.from({ length: 1200 }, (_, i) => `t.T${String(i).padStart(6, "0")}`),
    );
    expect(calls).toEqual([1000, 200]);
  });

  it("bounds an unlimited answer at maxV1Types", async () => {
    const { registry } = fakeRegistry(maxV1Types + 5, 1000);
    expect(await listTypesV1(registry, 0, scope)).toHaveLength(maxV1Types);
  });

  it("returns nothing when nothing is registered", async () => {
    const { registry, calls } = fakeRegistry(0, 1000);
    expect(await listTypesV1(registry, 0, scope)).toEqual([]);
    expect(calls).toEqual([1000]);
  });
});
