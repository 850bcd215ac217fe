import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { CreateRequestSchema, CrudStoreService, UpdateRequestSchema } from "@eskit/client";
import { createNodeTransport } from "@eskit/client/node.js";
import { describe, expect, it } from "vitest";
import { useServices } from "./support/run-cli.js";

const { eskit, services } = useServices();
const json = (stdout: string): unknown => JSON.parse(stdout);
/** An entity type of its own per test: every test starts from a type with no documents. */
const newType = () => `acme.T${randomUUID().replaceAll("-", "")}`;

describe("eskit doc create, get, update, delete and history", () => {
  it("writes a document through its versions and reads each of them back exactly", async () => {
    const type = newType();
    const id = `ada-${randomUUID()}`;
    const created = await eskit(["doc", "create", type, "--id", id, "--payload", '{"name":"Ada","langs":["en"]}']);
    expect(created).toMatchObject({ code: 0, stderr: "" });
    expect(json(created.stdout)).toEqual({ id, version: "1" });
    expect(json((await eskit(["doc", "get", type, id])).stdout)).toEqual({
      id,
      version: "1",
      document: { name: "Ada", langs: ["en"] },
    });

    const updated = await eskit(["doc", "update", type, id, "--version", "1", "--payload", '{"name":"Ada L."}']);
    expect(updated).toMatchObject({ code: 0, stderr: "" });
    expect(json(updated.stdout)).toEqual({ id, version: "2" });
    expect(json((await eskit(["doc", "get", type, id])).stdout)).toEqual({
      id,
      version: "2",
      document: { name: "Ada L." },
    });
    expect(json((await eskit(["doc", "get", type, id, "--version", "1"])).stdout)).toEqual({
      id,
      version: "1",
      document: { name: "Ada", langs: ["en"] },
    });

    const deleted = await eskit(["doc", "delete", type, id, "--version", "2"]);
    expect(deleted).toMatchObject({ code: 0, stderr: "" });
    expect(json(deleted.stdout)).toEqual({ id, version: "3" });
    const gone = await eskit(["doc", "get", type, id]);
    expect(gone.code).toBe(3);
    expect(gone.stderr).toMatch(/^eskit: not_found: .*deleted at version 3/u);
    expect(json((await eskit(["doc", "get", type, id, "--deleted"])).stdout)).toEqual({
      id,
      version: "3",
      document: { name: "Ada L." },
    });

    const history = json((await eskit(["doc", "history", type, id])).stdout) as { occurredOn: string }[];
    expect(history.map(({ occurredOn, ...rest }) => rest)).toEqual([
      { version: "1", action: "created", document: { name: "Ada", langs: ["en"] } },
      { version: "2", action: "updated", document: { name: "Ada L." } },
      { version: "3", action: "deleted", document: { name: "Ada L." } },
    ]);
    const times = history.map((r) => Date.parse(r.occurredOn));
    expect(times.every((t) => t > Date.now() - 120_000 && t <= Date.now())).toBe(true);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  }, 60_000);

  it("generates an id when none is given, and keeps an id that looks like a number as it is", async () => {
    const type = newType();
    const generated = json((await eskit(["doc", "create", type, "--payload", "{}"])).stdout) as { id: string };
    expect(generated.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/u);
    expect(generated).toEqual({ id: generated.id, version: "1" });
    const numeric = `00${Date.now()}`;
    expect(json((await eskit(["doc", "create", type, "--id", numeric, "--payload", '{"n":1}'])).stdout)).toEqual({
      id: numeric,
      version: "1",
    });
    expect(json((await eskit(["doc", "get", type, numeric])).stdout)).toEqual({
      id: numeric,
      version: "1",
      document: { n: 1 },
    });
  });

  it("reads a payload from a file and from standard input", async () => {
    const type = newType();
    const dir = await mkdtemp(join(tmpdir(), "eskit-doc-"));
    try {
      const file = join(dir, "doc.json");
      await writeFile(file, '{\n  "from": "file",\n  "n": 1.5\n}\n');
      const id = `file-${randomUUID()}`;
      expect((await eskit(["doc", "create", type, "--id", id, "--payload", `@${file}`])).code).toBe(0);
      const fromStdin = await eskit(["doc", "update", type, id, "--version", "1", "--payload", "@-"], {
        input: '{"from":"stdin"}',
      });
      expect(json(fromStdin.stdout)).toEqual({ id, version: "2" });
      const history = json((await eskit(["doc", "history", type, id])).stdout) as { document: unknown }[];
      expect(history.map((r) => r.document)).toEqual([{ from: "file", n: 1.5 }, { from: "stdin" }]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("reads a history longer than a page, every revision in version order", async () => {
    const type = newType();
    const id = `long-${randomUUID()}`;
    // 105 revisions: more than one History page of 100, written through the API (a process each would be slow).
    const transport = createNodeTransport({ baseUrl: services().crudStoreUrl, protocol: "connect" });
    const client = createClient(CrudStoreService, transport);
    try {
      await client.create(create(CreateRequestSchema, { entityType: type, originator: { id }, payload: '{"n":1}' }));
      for (let version = 1n; version < 105n; version++) {
        const payload = `{"n":${version + 1n}}`;
        await client.update(create(UpdateRequestSchema, { entityType: type, originator: { id, version }, payload }));
      }
    } finally {
      transport.close();
    }
    const history = await eskit(["doc", "history", type, id]);
    expect(history).toMatchObject({ code: 0, stderr: "" });
    const revisions = json(history.stdout) as { version: string; action: string; document: unknown }[];
    expect(revisions.map((r) => [r.version, r.action, r.document])).toEqual(
      Array.from({ length: 105 }, (_, i) => [String(i + 1), i === 0 ? "created" : "updated", { n: i + 1 }]),
    );
  }, 60_000);

  it("prints a document as a table with its JSON pretty-printed", async () => {
    const type = newType();
    const id = `table-${randomUUID()}`;
    await eskit(["doc", "create", type, "--id", id, "--payload", '{"name":"Ada","tags":["a"]}']);
    const table = await eskit(["doc", "get", type, id, "-o", "table"]);
    expect(table.code).toBe(0);
    const text = table.stdout;
    expect(text).toContain(id);
    // The document spans lines, indented as JSON.stringify(document, null, 2) writes it.
    for (const line of ["{", '  "name": "Ada",', '  "tags": [', '    "a"', "  ]", "}"]) expect(text).toContain(line);
    // Whatever the table's borders: the field, then its value.
    expect(text).toMatch(/version[\s│]+1\s/u);
  });
});

describe("eskit doc list", () => {
  it("lists every document of a type in id order across pages, up to --limit, with or without payloads", async () => {
    const type = newType();
    const prefix = randomUUID();
    // 120 documents: more than one page of 100. Created through the API, since a process per document would be slow.
    const transport = createNodeTransport({ baseUrl: services().crudStoreUrl, protocol: "connect" });
    const client = createClient(CrudStoreService, transport);
    const ids = Array.from({ length: 120 }, (_, i) => `${prefix}-${String(i).padStart(3, "0")}`);
    try {
      for (const [i, id] of ids.entries()) {
        await client.create(
          create(CreateRequestSchema, { entityType: type, originator: { id }, payload: `{"i":${i}}` }),
        );
      }
    } finally {
      transport.close();
    }
    const all = await eskit(["doc", "list", type]);
    expect(all).toMatchObject({ code: 0, stderr: "" });
    expect(json(all.stdout)).toEqual(ids.map((id, i) => ({ id, version: "1", document: { i } })));

    const limited = json((await eskit(["doc", "list", type, "--limit", "110"])).stdout) as { id: string }[];
    expect(limited.map((d) => d.id)).toEqual(ids.slice(0, 110));

    const bare = json((await eskit(["doc", "list", type, "--skip-payload", "--limit", "3"])).stdout);
    expect(bare).toEqual(ids.slice(0, 3).map((id) => ({ id, version: "1" })));

    expect(json((await eskit(["doc", "list", newType()])).stdout)).toEqual([]);
  }, 60_000);

  it("leaves deleted documents out", async () => {
    const type = newType();
    const [a, b] = [`a-${randomUUID()}`, `b-${randomUUID()}`];
    await eskit(["doc", "create", type, "--id", a, "--payload", '{"k":"a"}']);
    await eskit(["doc", "create", type, "--id", b, "--payload", '{"k":"b"}']);
    expect((await eskit(["doc", "delete", type, a, "--version", "1"])).code).toBe(0);
    expect(json((await eskit(["doc", "list", type])).stdout)).toEqual([{ id: b, version: "1", document: { k: "b" } }]);
  });
});

describe("eskit doc refuses bad input", () => {
  it("refuses a malformed or non-object payload with exit 2, storing nothing", async () => {
    const type = newType();
    const id = `bad-${randomUUID()}`;
    const malformed = await eskit(["doc", "create", type, "--id", id, "--payload", '{"name":']);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/^eskit: --payload is not valid JSON/u);
    expect(malformed.stdout).toBe("");
    const array = await eskit(["doc", "create", type, "--id", id, "--payload", "[1]"]);
    expect(array.code).toBe(2);
    expect(array.stderr).toMatch(/^eskit: invalid_argument: .*must be a JSON object/u);
    const missing = await eskit(["doc", "get", type, id]);
    expect(missing.code).toBe(3);
    expect(json((await eskit(["doc", "list", type])).stdout)).toEqual([]);
  });

  it("refuses an update based on a stale version with exit 4 (aborted), leaving the document as it was", async () => {
    const type = newType();
    const id = `stale-${randomUUID()}`;
    await eskit(["doc", "create", type, "--id", id, "--payload", '{"v":1}']);
    await eskit(["doc", "update", type, id, "--version", "1", "--payload", '{"v":2}']);
    const stale = await eskit(["doc", "update", type, id, "--version", "1", "--payload", '{"v":"lost"}']);
    expect(stale.code).toBe(4);
    expect(stale.stderr).toMatch(/^eskit: aborted: .*is at version 2, not 1/u);
    const staleDelete = await eskit(["doc", "delete", type, id, "--version", "1"]);
    expect(staleDelete.code).toBe(4);
    expect(staleDelete.stderr).toMatch(/^eskit: aborted: /u);
    expect(json((await eskit(["doc", "get", type, id])).stdout)).toEqual({ id, version: "2", document: { v: 2 } });
  });

  it("refuses a second document with the same id with exit 4 (already_exists)", async () => {
    const type = newType();
    const id = `twice-${randomUUID()}`;
    await eskit(["doc", "create", type, "--id", id, "--payload", '{"n":1}']);
    const again = await eskit(["doc", "create", type, "--id", id, "--payload", '{"n":2}']);
    expect(again.code).toBe(4);
    expect(again.stderr).toMatch(/^eskit: already_exists: /u);
  });

  it("reports a missing document with exit 3 from get, update, delete and history", async () => {
    const type = newType();
    const id = `none-${randomUUID()}`;
    const get = await eskit(["doc", "get", type, id]);
    expect(get.code).toBe(3);
    expect(get.stderr).toBe(`eskit: not_found: no ${type} with id "${id}"\n`);
    expect((await eskit(["doc", "update", type, id, "--version", "1", "--payload", "{}"])).code).toBe(3);
    expect((await eskit(["doc", "delete", type, id, "--version", "1"])).code).toBe(3);
    expect((await eskit(["doc", "history", type, id])).code).toBe(3);
  });

  it("refuses a document that breaks its type's schema with exit 2, naming the fields, and stores nothing", async () => {
    const type = newType();
    const schema = JSON.stringify({
      type: "object",
      required: ["name"],
      properties: { name: { type: "string" }, age: { type: "integer", minimum: 0 } },
    });
    expect((await eskit(["types", "register", type, "--schema", schema])).code).toBe(0);
    const id = `pet-${randomUUID()}`;
    const invalid = await eskit(["doc", "create", type, "--id", id, "--payload", '{"age":-1}']);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toBe(
      `eskit: invalid_argument: the document does not match the schema of ${type} (schema_version 1):\n` +
        "  (the document): must have required property 'name'\n" +
        "  /age: must be >= 0\n",
    );
    expect(json((await eskit(["doc", "list", type])).stdout)).toEqual([]);
    // A valid one is stored, and an update that breaks the schema is refused the same way.
    expect((await eskit(["doc", "create", type, "--id", id, "--payload", '{"name":"Rex"}'])).code).toBe(0);
    const badUpdate = await eskit(["doc", "update", type, id, "--version", "1", "--payload", '{"name":7}']);
    expect(badUpdate.code).toBe(2);
    expect(badUpdate.stderr).toContain("\n  /name: must be string\n");
    expect(json((await eskit(["doc", "get", type, id])).stdout)).toEqual({
      id,
      version: "1",
      document: { name: "Rex" },
    });
  });

  it("refuses unknown flags, missing and malformed versions with exit 2 before calling the Crud Store", async () => {
    const type = newType();
    const unknown = await eskit(["doc", "get", type, "x", "--no-such-flag"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Unknown argument");
    const noVersion = await eskit(["doc", "update", type, "x", "--payload", "{}"]);
    expect(noVersion.code).toBe(2);
    expect(noVersion.stderr).toContain("Missing required argument: version");
    const badVersion = await eskit(["doc", "get", type, "x", "--version", "one"]);
    expect(badVersion.code).toBe(2);
    expect(badVersion.stderr).toContain("--version must be a whole number");
    const zeroLimit = await eskit(["doc", "list", type, "--limit", "0"]);
    expect(zeroLimit.code).toBe(2);
    const emptyId = await eskit(["doc", "create", type, "--id", "", "--payload", "{}"]);
    expect(emptyId.code).toBe(2);
    expect(emptyId.stderr).toBe("eskit: --id must not be empty\n");
    const noSubcommand = await eskit(["doc"]);
    expect(noSubcommand.code).toBe(2);
  }, 60_000);
});
