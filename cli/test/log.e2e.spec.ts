import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createEventStoreClient } from "@eskit/client";
import { createNodeTransport } from "@eskit/client/node.js";
import { runCli, useServices } from "./support/run-cli.js";

const { eskit, services } = useServices();
const json = (stdout: string): unknown => JSON.parse(stdout);

describe("eskit head, append and events", () => {
  it("appends events, reads them back exactly, and moves the head", async () => {
    const id = `user-${randomUUID()}`;
    const before = json((await eskit(["head"])).stdout) as { head: string };
    const first = await eskit(["append", "User.Created", id, "--version", "1", "--payload", '{"name":"Ann"}']);
    expect(first).toMatchObject({ code: 0, stderr: "" });
    const { logId } = json(first.stdout) as { logId: string };
    expect(BigInt(logId)).toBeGreaterThan(BigInt(before.head));
    const eventId = randomUUID();
    const second = await eskit([
      "append",
      "User.Renamed",
      id,
      "--version",
      "2",
      "--payload",
      '{"name":"Bo"}',
      "--event-id",
      eventId,
      "--metadata",
      "source=cli",
      "--metadata",
      "ticket=42",
    ]);
    expect(second.code).toBe(0);
    expect(json((await eskit(["head"])).stdout)).toEqual({ head: (json(second.stdout) as { logId: string }).logId });
    const events = json((await eskit(["events", id])).stdout) as Record<string, unknown>[];
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({
      originator: { id, version: "1" },
      eventType: "User.Created",
      payload: '{"name":"Ann"}',
    });
    expect(events[1]).toMatchObject({
      originator: { id, version: "2" },
      eventType: "User.Renamed",
      payload: '{"name":"Bo"}',
      eventId,
      metadata: { source: "cli", ticket: "42" },
    });
    const range = json((await eskit(["events", id, "--from", "2", "--to", "2"])).stdout) as unknown[];
    expect(range).toEqual([events[1]]);
    const table = await eskit(["events", id, "-o", "table"]);
    expect(table.stdout).toContain("User.Renamed");
    expect(table.stdout).toContain('{"name":"Bo"}');
  });

  it("reads a payload from a file and from standard input", async () => {
    const id = `file-${randomUUID()}`;
    const fromStdin = await eskit(["append", "Doc.Created", id, "--version", "1", "--payload", "@-"], {
      input: '{"from":"stdin"}',
    });
    expect(fromStdin.code).toBe(0);
    const events = json((await eskit(["events", id])).stdout) as { payload: string }[];
    expect(events.map((e) => e.payload)).toEqual(['{"from":"stdin"}']);
  });

  it("refuses bad input with a clear message and a distinct exit code, writing nothing", async () => {
    const id = `bad-${randomUUID()}`;
    const malformed = await eskit(["append", "User.Created", id, "--version", "1", "--payload", '{"name":']);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/^eskit: --payload is not valid JSON/u);
    const badVersion = await eskit(["append", "User.Created", id, "--version", "one"]);
    expect(badVersion.code).toBe(2);
    expect(badVersion.stderr).toContain("--version must be a whole number");
    const badType = await eskit(["append", "NoDot", id, "--version", "1"]);
    expect(badType.code).toBe(2);
    expect(badType.stderr).toMatch(/^eskit: invalid_argument: /u);
    const unknownFlag = await eskit(["head", "--no-such-flag"]);
    expect(unknownFlag.code).toBe(2);
    expect(unknownFlag.stderr).toContain("Unknown argument");
    const missingFile = await eskit(["append", "User.Created", id, "--version", "1", "--payload", "@/no/such/file"]);
    expect(missingFile.code).toBe(2);
    expect(missingFile.stderr).toContain("cannot read /no/such/file");
    // Nothing of the above was stored.
    const events = await eskit(["events", id]);
    expect(events.code).toBe(3);
    expect(events.stderr).toBe(`eskit: not_found: originator "${id}" has no events\n`);
  });

  it("reports a version conflict as exit 4 and an unreachable service as exit 6", async () => {
    const id = `conflict-${randomUUID()}`;
    expect((await eskit(["append", "User.Created", id, "--version", "1"])).code).toBe(0);
    const again = await eskit(["append", "User.Created", id, "--version", "1", "--payload", '{"other":true}']);
    expect(again.code).toBe(4);
    expect(again.stderr).toMatch(/^eskit: (aborted|already_exists): /u);
    const gap = await eskit(["append", "User.Renamed", id, "--version", "5"]);
    expect(gap.code).toBe(4);
    expect(gap.stderr).toMatch(/^eskit: failed_precondition: /u);
    const down = await runCli(["head", "--url", "http://127.0.0.1:1"]);
    expect(down.code).toBe(6);
    expect(down.stderr).toMatch(/^eskit: unavailable: /u);
    const notUrl = await runCli(["head", "--url", "nowhere"]);
    expect(notUrl.code).toBe(2);
  });

  it("takes its URL from ESKIT_URL", async () => {
    const result = await runCli(["head"], { env: { ESKIT_URL: services().eventStoreUrl } });
    expect(result.code).toBe(0);
    expect(json(result.stdout)).toHaveProperty("head");
  });
});

describe("eskit tail", () => {
  it("shows what is appended after it started, as JSON lines, until Ctrl-C (exit 130)", async () => {
    const id = `tail-${randomUUID()}`;
    const tailing = eskit(["tail", "User.*", "--json"], {
      stopWhen: { when: ({ stdout }) => stdout.split("\n").length > 3 },
    });
    // Appends (through the client: a process per append would be slow) until the tail has printed three of them; it
    // may start after the first few.
    const transport = createNodeTransport({ baseUrl: services().eventStoreUrl, protocol: "connect" });
    const client = createEventStoreClient(transport);
    let done = false;
    void tailing.then(() => (done = true));
    for (let version = 1; version <= 2000 && !done; version++) {
      await client.appendEvents([
        { originatorId: id, version: BigInt(version), eventType: "User.Changed", payload: {} },
        { originatorId: `${id}-other`, version: BigInt(version), eventType: "Other.Changed", payload: {} },
      ]);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    transport.close();
    const result = await tailing;
    expect(result.code).toBe(130);
    const lines = result.stdout
      .trim()
      .split("\n")
      .map(
        (l) =>
          JSON.parse(l) as { id: string; event: { eventType: string; originator: { id: string; version: string } } },
      );
    expect(lines.length).toBeGreaterThanOrEqual(3);
    // Only the selector's events, consecutive versions, increasing ids.
    expect(new Set(lines.map((l) => l.event.eventType))).toEqual(new Set(["User.Changed"]));
    const versions = lines.map((l) => Number(l.event.originator.version));
    expect(versions).toEqual(versions.map((_, i) => versions[0]! + i));
    const ids = lines.map((l) => BigInt(l.id));
    expect(ids).toEqual([...ids].sort((a, b) => (a < b ? -1 : 1)));
  });

  it("replays from an id with --from", async () => {
    const id = `from-${randomUUID()}`;
    const first = json((await eskit(["append", "Thing.Made", id, "--version", "1"])).stdout) as { logId: string };
    await eskit(["append", "Thing.Made", id + "-2", "--version", "1"]);
    const result = await eskit(["tail", "Thing.*", "--from", first.logId, "--json"], {
      stopWhen: { when: ({ stdout }) => stdout.split("\n").length > 2 },
    });
    const lines = result.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { id: string; event: { originator: { id: string } } });
    expect(lines.slice(0, 2).map((l) => l.event.originator.id)).toEqual([id, `${id}-2`]);
    expect(lines[0]!.id).toBe(first.logId);
  });

  it("refuses --from together with --from-end", async () => {
    const result = await eskit(["tail", "--from", "1", "--from-end"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/mutually exclusive/u);
  });
});

describe("eskit consumers", () => {
  it("sets, gets and lists offsets with their lag behind the head", async () => {
    const consumer = `cli-${randomUUID()}`;
    const set = await eskit(["consumers", "set", consumer, "1"]);
    expect(set.code).toBe(0);
    const head = BigInt((json((await eskit(["head"])).stdout) as { head: string }).head);
    const got = json((await eskit(["consumers", "get", consumer])).stdout) as Record<string, string>;
    expect(got).toMatchObject({ consumerId: consumer, offset: "1" });
    expect(BigInt(got["lag"]!)).toBe(head > 1n ? head - 1n : 0n);
    expect(Date.parse(got["updatedAt"]!)).toBeGreaterThan(Date.now() - 60_000);
    const listed = json((await eskit(["consumers", "list"])).stdout) as Record<string, string>[];
    expect(listed.find((c) => c.consumerId === consumer)).toEqual(got);
    const missing = await eskit(["consumers", "get", `none-${randomUUID()}`]);
    expect(missing.code).toBe(3);
    const badOffset = await eskit(["consumers", "set", consumer, "-5"]);
    expect(badOffset.code).toBe(2);
  });

  it("says which sub-command is missing", async () => {
    const result = await eskit(["consumers"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("eskit consumers --help");
  });
});

describe("eskit --help and completion", () => {
  it("documents every command, and prints a completion script", async () => {
    const help = await runCli(["--help"]);
    expect(help.code).toBe(0);
    for (const command of ["head", "tail", "events", "append", "export", "import", "consumers", "completion"]) {
      expect(help.stdout).toContain(`eskit ${command}`);
    }
    const appendHelp = await runCli(["append", "--help"]);
    expect(appendHelp.stdout).toContain("--payload");
    const completion = await runCli(["completion"]);
    expect(completion.code).toBe(0);
    expect(completion.stdout).toContain("eskit");
    expect(completion.stdout).toMatch(/complete|compdef/u);
  });
});
