import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { getTableColumns, getTableName } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import * as schema from "./schema.js";
import { ev, sqlNames } from "./sql-names.js";

const storeDir = fileURLToPath(new URL("../store/", import.meta.url));
const tables = Object.values(schema).filter(
  (value) => typeof value === "object" && value !== null && "getSQL" in value,
);

/**
 * The SQL a source text writes itself: its template literals without their `${...}` parts (what the code puts in:
 * names from sql-names.ts, parameters, other fragments).
 */
const literalSql = (source: string) =>
  [...source.matchAll(/`(?:[^`\\]|\\.)*`/gu)].map(([literal]) => literal.replace(/\$\{[^}]*\}/gu, "")).join("\n");

describe("SQL names from the schema", () => {
  it("are the schema's own", () => {
    expect(ev.$).toBe("events");
    expect([ev.logId, ev.originatorId, ev.occurredOnNanos]).toEqual(["log_id", "originator_id", "occurred_on_nanos"]);
    expect(Object.keys(sqlNames(schema.snapshots)).sort()).toEqual([
      "$",
      "createdAt",
      "originatorId",
      "payload",
      "version",
    ]);
  });

  it("are the only way store/ names a table or a column: no statement spells one itself", () => {
    expect(tables.length).toBe(3);
    const offences: string[] = [];
    for (const file of readdirSync(storeDir).filter((f) => f.endsWith(".ts") && !f.endsWith(".spec.ts"))) {
      const sql = literalSql(readFileSync(`${storeDir}${file}`, "utf8"));
      for (const table of tables as Parameters<typeof getTableName>[0][]) {
        const name = getTableName(table);
        for (const [match] of sql.matchAll(new RegExp(`\\b(?:from|join|into|update)\\s+"?${name}\\b"?`, "giu"))) {
          offences.push(`${file}: ${match}`);
        }
        // By the store's convention a one-letter alias (e, l, f) stands for a schema table; longer ones name the
        // statement's own relations (CTEs, subqueries), whose columns are its own aliases.
        for (const column of Object.values(getTableColumns(table))) {
          for (const [match] of sql.matchAll(new RegExp(`\\b[a-z]\\."?${column.name}\\b`, "gu"))) {
            offences.push(`${file}: ${match}`);
          }
        }
      }
    }
    expect(offences).toEqual([]);
  });
});
