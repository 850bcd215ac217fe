import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { crudStoreAccess } from "@eskit/crud-store/rpc-access.js";
import { eventStoreAccess } from "@eskit/event-store/rpc-access.js";
import {
  type Access,
  type AccessTables,
  accessOf as accessIn,
  healthAccess,
} from "@eskit/server-kit/auth/rpc-access.js";

// The whole system's access control, as the services hand it to their servers: every RPC generated from proto/ is
// classified by the service that serves it, and the README's access table says the same.

/** Every table a server of the system is given. */
const systemAccess: AccessTables = new Map([...healthAccess, ...eventStoreAccess, ...crudStoreAccess]);
const accessOf = (method: DescMethod) => accessIn(systemAccess, method);

const genRoot = fileURLToPath(new URL("../../gen/src/", import.meta.url));
const readmePath = fileURLToPath(new URL("../../docs/limits-and-access-control.md", import.meta.url));

function generatedFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? generatedFiles(join(dir, entry.name))
      : entry.name.endsWith("_pb.ts")
        ? [join(dir, entry.name)]
        : [],
  );
}

/** Every service generated from proto/, found by walking gen/ (so a new .proto file is found too). */
async function generatedServices(): Promise<DescService[]> {
  const services: DescService[] = [];
  for (const file of generatedFiles(genRoot)) {
    const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    for (const value of Object.values(module)) {
      if (typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "service") {
        services.push(value as DescService);
      }
    }
  }
  return services;
}

describe("the access table", () => {
  it("classifies every RPC of every service generated from proto/", async () => {
    const services = await generatedServices();
    expect(services.map((s) => s.typeName).sort()).toEqual([
      "contracts.consumerstore.ConsumerService",
      "contracts.crudstore.CrudStoreService",
      "contracts.eventstore.EventstoreService",
      "eskit.crudstore.v1.CrudStoreService",
      "eskit.eventstore.v1.ConsumerService",
      "eskit.eventstore.v1.EventStoreService",
      "grpc.health.v1.Health",
    ]);
    const unclassified = services.flatMap((s) =>
      s.methods.filter((m) => accessOf(m) === undefined).map((m) => `${s.typeName}/${m.name}`),
    );
    expect(unclassified).toEqual([]);
  });

  it("lets read tokens call exactly the reads, and leaves only health open", async () => {
    const byAccess: Record<string, string[]> = { open: [], read: [], write: [] };
    for (const service of await generatedServices()) {
      for (const method of service.methods) byAccess[accessOf(method)!]!.push(method.name);
    }
    expect(byAccess["open"]!.sort()).toEqual(["Check", "Healtz", "Healtz", "Healtz", "List", "Watch"]);
    expect(byAccess["write"]!.sort()).toEqual(
      [
        "Append",
        "AppendStream",
        "Create",
        "Delete",
        "RegisterType",
        "SaveOffset",
        "SaveSnapshot",
        "Update",
        "UpdateType",
        // v1
        "Append",
        "Create",
        "Delete",
        "LogConsume",
        "RegisterType",
        "Update",
        "UpdateType",
      ].sort(),
    );
    expect(byAccess["read"]!.sort()).toEqual(
      [
        "BatchGetEvents",
        "Get",
        "GetEvents",
        "GetHead",
        "GetOffset",
        "GetSnapshot",
        "GetType",
        "History",
        "List",
        "ListConsumers",
        "ListOriginators",
        "ListTypes",
        "Logs",
        "LogsPoll",
        // v1
        "Get",
        "GetEvents",
        "GetLogConsume",
        "GetType",
        "List",
        "List",
        "ListTypes",
        "Logs",
        "LogsPoll",
      ].sort(),
    );
  });
});

/**
 * The README's access table as `service/Method` → class: each row names a service by its full name in backquotes, then
 * its methods in backquotes in the columns Open, Reads and Writes.
 */
function readmeAccessTable(readme: string): Map<string, Access> {
  const start = readme.indexOf("\n## Access control\n");
  expect(start, "docs/limits-and-access-control.md has an Access control section").toBeGreaterThanOrEqual(0);
  const end = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start + 1, end < 0 ? undefined : end);
  const header = "| Service | Open: no token | Reads: a full or a read token | Writes: a full token |";
  expect(section, "the access table's header in the README's Access control section").toContain(header);
  const rows = section.slice(section.indexOf(header)).split("\n").slice(2);
  const table = new Map<string, Access>();
  for (const row of rows) {
    if (!row.startsWith("|")) break;
    const [service, ...columns] = row.split("|").slice(1, -1);
    const typeName = /`([\w.]+)`/u.exec(service ?? "")?.[1];
    expect(typeName, `a service name in backquotes in the README row ${row}`).toBeDefined();
    (["open", "read", "write"] as const).forEach((access, i) => {
      for (const [, method] of (columns[i] ?? "").matchAll(/`(\w+)`/gu)) table.set(`${typeName}/${method}`, access);
    });
  }
  return table;
}

describe("the README's access table", () => {
  it("lists every RPC of every service under the class rpc-access.ts gives it, and nothing else", async () => {
    const fromCode = new Map<string, Access | undefined>();
    for (const service of await generatedServices()) {
      for (const method of service.methods) fromCode.set(`${service.typeName}/${method.name}`, accessOf(method));
    }
    const fromReadme = readmeAccessTable(readFileSync(readmePath, "utf8"));
    expect(Object.fromEntries([...fromReadme].sort())).toEqual(Object.fromEntries([...fromCode].sort()));
  });
});
