import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { useServices } from "./support/run-cli.js";

const { eskit } = useServices();
const json = (stdout: string): unknown => JSON.parse(stdout);
const newType = () => `acme.T${randomUUID().replaceAll("-", "")}`;

const petSchema = {
  type: "object",
  required: ["name"],
  properties: { name: { type: "string" }, age: { type: "integer", minimum: 0 } },
};

describe("eskit types register, get and list", () => {
  it("registers types with and without a schema and reads them back exactly, listed in name order", async () => {
    const [withSchema, withoutSchema] = [newType(), newType()].sort();
    const registered = await eskit(["types", "register", withSchema!, "--schema", JSON.stringify(petSchema)]);
    expect(registered).toMatchObject({ code: 0, stderr: "" });
    expect(json(registered.stdout)).toEqual({ entityType: withSchema, schemaVersion: "1" });
    const free = await eskit(["types", "register", withoutSchema!, "--schema-version", "3"]);
    expect(json(free.stdout)).toEqual({ entityType: withoutSchema, schemaVersion: "3" });

    expect(json((await eskit(["types", "get", withSchema!])).stdout)).toEqual({
      entityType: withSchema,
      schemaVersion: "1",
      schema: petSchema,
    });
    expect(json((await eskit(["types", "get", withoutSchema!])).stdout)).toEqual({
      entityType: withoutSchema,
      schemaVersion: "3",
      schema: null,
    });
    const listed = json((await eskit(["types", "list"])).stdout) as { entityType: string }[];
    const ours = new Set([withSchema, withoutSchema]);
    expect(listed.filter((t) => ours.has(t.entityType))).toEqual([
      { entityType: withSchema, schemaVersion: "1", schema: petSchema },
      { entityType: withoutSchema, schemaVersion: "3", schema: null },
    ]);
  }, 60_000);

  it("reads a schema from a file and from standard input", async () => {
    const dir = await mkdtemp(join(tmpdir(), "eskit-types-"));
    try {
      const file = join(dir, "schema.json");
      await writeFile(file, `${JSON.stringify(petSchema, null, 2)}\n`);
      const fromFile = newType();
      expect((await eskit(["types", "register", fromFile, "--schema", `@${file}`])).code).toBe(0);
      expect((json((await eskit(["types", "get", fromFile])).stdout) as { schema: unknown }).schema).toEqual(petSchema);
      const fromStdin = newType();
      const stdinSchema = { type: "object", maxProperties: 2 };
      const registered = await eskit(["types", "register", fromStdin, "--schema", "@-"], {
        input: JSON.stringify(stdinSchema),
      });
      expect(registered.code).toBe(0);
      expect((json((await eskit(["types", "get", fromStdin])).stdout) as { schema: unknown }).schema).toEqual(
        stdinSchema,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("prints a type as a table with its schema pretty-printed", async () => {
    const type = newType();
    await eskit(["types", "register", type, "--schema", '{"type":"object","required":["name"]}']);
    const table = await eskit(["types", "get", type, "-o", "table"]);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain(type);
    for (const line of ['"type": "object",', '"required": [', '"name"']) expect(table.stdout).toContain(line);
    const list = await eskit(["types", "list", "-o", "table"]);
    expect(list.stdout).toMatch(/schema version/iu);
    expect(list.stdout).toContain('{"type":"object","required":["name"]}');
  });
});

describe("eskit types update", () => {
  it("gives a type a new schema at a higher version, enforced from then on; a version not above is refused (exit 4)", async () => {
    const type = newType();
    expect((await eskit(["types", "register", type, "--schema", JSON.stringify(petSchema)])).code).toBe(0);
    expect((await eskit(["doc", "create", type, "--id", "rex", "--payload", '{"name":"Rex"}'])).code).toBe(0);
    const stricter = { ...petSchema, required: ["name", "age"] };
    const updated = await eskit([
      "types",
      "update",
      type,
      "--schema-version",
      "2",
      "--schema",
      JSON.stringify(stricter),
    ]);
    expect(updated).toMatchObject({ code: 0, stderr: "" });
    expect(json(updated.stdout)).toEqual({ entityType: type, schemaVersion: "2" });
    expect(json((await eskit(["types", "get", type])).stdout)).toEqual({
      entityType: type,
      schemaVersion: "2",
      schema: stricter,
    });
    const refused = await eskit(["doc", "create", type, "--id", "tom", "--payload", '{"name":"Tom"}']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("(the document): must have required property 'age'");
    // The document stored under the first schema stays as it was.
    expect(json((await eskit(["doc", "get", type, "rex"])).stdout)).toMatchObject({ document: { name: "Rex" } });
    const notHigher = await eskit(["types", "update", type, "--schema-version", "2", "--schema", "{}"]);
    expect(notHigher.code).toBe(4);
    expect(notHigher.stderr).toMatch(/schema_version 2: an update needs a higher one/u);
    const missingVersion = await eskit(["types", "update", type, "--schema", "{}"]);
    expect(missingVersion.code).toBe(2);
    const unknown = await eskit(["types", "update", newType(), "--schema-version", "2"]);
    expect(unknown.code).toBe(3);
  }, 60_000);
});

describe("eskit types refuses bad input", () => {
  it("refuses a malformed schema with exit 2 before calling, and an invalid JSON Schema with the server's reason", async () => {
    const type = newType();
    const malformed = await eskit(["types", "register", type, "--schema", '{"type":']);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/^eskit: --schema is not valid JSON/u);
    const invalid = await eskit(["types", "register", type, "--schema", '{"type":5}']);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/^eskit: invalid_argument: the JSON Schema is invalid: /u);
    // Neither was registered.
    const get = await eskit(["types", "get", type]);
    expect(get.code).toBe(3);
    expect(get.stderr).toBe(`eskit: not_found: type ${type} is not registered\n`);
  });

  it("refuses to register a type twice with exit 4 (already_exists), keeping the first schema", async () => {
    const type = newType();
    await eskit(["types", "register", type, "--schema", '{"type":"object"}']);
    const again = await eskit(["types", "register", type, "--schema", '{"type":"array"}']);
    expect(again.code).toBe(4);
    expect(again.stderr).toMatch(/^eskit: already_exists: type .* is already registered/u);
    expect((json((await eskit(["types", "get", type])).stdout) as { schema: unknown }).schema).toEqual({
      type: "object",
    });
  });

  it("refuses unknown flags, a bad schema version and a missing type with exit 2", async () => {
    const unknown = await eskit(["types", "list", "--no-such-flag"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Unknown argument");
    const zero = await eskit(["types", "register", newType(), "--schema-version", "0"]);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toContain("--schema-version must be between 1");
    const noType = await eskit(["types", "get"]);
    expect(noType.code).toBe(2);
    expect(noType.stderr).toContain("Not enough non-option arguments");
  });
});
