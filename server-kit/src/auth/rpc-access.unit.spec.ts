import { readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { DescService } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { accessOf } from "./rpc-access.js";

const genRoot = fileURLToPath(new URL("../../../gen/src/", import.meta.url));

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
