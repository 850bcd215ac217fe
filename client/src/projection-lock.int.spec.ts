import postgres, { type Sql } from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dropDatabase, freshDatabaseUrl } from "@eskit/test-kit/event-store.js";
import { startTcpProxy } from "@eskit/test-kit/tcp-proxy.js";
import { NoAnswerError } from "./database-deadline.js";
import { isTransientDatabaseError } from "./database-error.js";
import { holderLockKey, lockIdentity, openHolderLock, type HolderLock } from "./projection-lock.js";

// Session advisory locks between connections: PGlite serves one connection, inside the process.
const postgresUrl = process.env["DATABASE_URL"];
const skipReason = postgresUrl ? "" : " (skipped: needs PostgreSQL, set DATABASE_URL)";

async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("holderLockKey", () => {
  it("is a stable signed 64-bit key per name, different between names", () => {
    expect(holderLockKey("orders")).toBe(holderLockKey("orders"));
    expect(holderLockKey("orders")).not.toBe(holderLockKey("orders2"));
    for (const name of ["a", "orders", "é", "x".repeat(255)]) {
      expect(BigInt.asIntN(64, holderLockKey(name))).toBe(holderLockKey(name));
    }
  });

  it("maps to pg_locks' classid and objid as unsigned 32-bit halves", () => {
    expect(lockIdentity(-1n)).toEqual({ classid: "4294967295", objid: "4294967295" });
    expect(lockIdentity(0x0000000100000002n)).toEqual({ classid: "1", objid: "2" });
  });
});

describe.skipIf(!postgresUrl)(`the holder lock of a projection${skipReason}`, () => {
  let url: string;
  let sql: Sql;
  const opened: HolderLock[] = [];
  const lockOf = (name: string, retryMs = 20) => {
    const lock = openHolderLock(sql, name, retryMs, 10_000);
    opened.push(lock);
    return lock;
  };

  beforeAll(async () => {
    url = await freshDatabaseUrl(postgresUrl);
    sql = postgres(url, { max: 2, onnotice: () => {} });
  });
  afterAll(async () => {
    await Promise.all(opened.map((lock) => lock.close()));
    await sql?.end({ timeout: 5 });
    if (url !== undefined) await dropDatabase(url);
  });

  it("is held by one instance at a time; the other waits and takes over when the holder lets go", async () => {
    const first = await lockOf("one-at-a-time").acquire(new AbortController().signal, () => {});
    expect(first).toBeDefined();
    const { classid, objid } = lockIdentity(first!.key);
    const holders = await sql`
      select pid from pg_locks where locktype = 'advisory' and classid::int8 = ${classid}::int8
        and objid::int8 = ${objid}::int8 and objsubid = 1 and granted
        and database = (select oid from pg_database where datname = current_database())`;
    expect(holders.map((row) => row["pid"])).toEqual([first!.pid]);

    let waits = 0;
    const second = lockOf("one-at-a-time").acquire(new AbortController().signal, () => waits++);
    await waitFor(() => waits >= 3, "the second instance to try three times");
    await first!.release();
    const taken = await second;
    expect(taken?.pid).not.toBe(first!.pid);
    expect(await taken!.check()).toBe(true);
    expect(await first!.check()).toBe(false);
  });

  it("does not keep two different names from being held at once", async () => {
    const a = await lockOf("name-a").acquire(new AbortController().signal, () => {});
    const b = await lockOf("name-b").acquire(new AbortController().signal, () => {});
    expect(await a!.check()).toBe(true);
    expect(await b!.check()).toBe(true);
  });

  it("resolves to undefined when stopped while waiting", async () => {
    await lockOf("stopped").acquire(new AbortController().signal, () => {});
    const stop = new AbortController();
    const waiting = lockOf("stopped").acquire(stop.signal, () => stop.abort());
    await expect(waiting).resolves.toBeUndefined();
  });

  it("is lost when its backend is terminated: `lost` aborts, and a waiting instance takes over", async () => {
    const hold = await lockOf("terminated").acquire(new AbortController().signal, () => {});
    let waits = 0;
    const other = lockOf("terminated").acquire(new AbortController().signal, () => waits++);
    await waitFor(() => waits >= 1, "the other instance to wait");
    const [row] = await sql<Array<{ terminated: boolean }>>`select pg_terminate_backend(${hold!.pid}) as terminated`;
    expect(row?.terminated).toBe(true);
    await waitFor(() => hold!.lost.aborted, "the hold to be lost");
    const taken = await other;
    expect(await taken!.check()).toBe(true);
    // The lost hold's connection reconnects on its next query, to a session that holds nothing.
    expect(await hold!.check()).toBe(false);
  });

  it("drops a connection that leaves a statement unanswered: the hold is lost, and the lock is taken on a fresh one", async () => {
    // The proxy silences the lock's connection (nothing passes, nothing closes), as when postgres.js loses a statement.
    const target = new URL(url);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const proxied = new URL(url);
    proxied.hostname = "127.0.0.1";
    proxied.port = String(proxy.port);
    const client = postgres(proxied.toString(), { max: 1, onnotice: () => {} });
    const lock = openHolderLock(client, "silenced", 20, 300);
    try {
      const hold = await lock.acquire(new AbortController().signal, () => {});
      proxy.silenceOpenConnections();
      const started = Date.now();
      const checking = await hold!.check().catch((error: unknown) => error);
      expect(checking).toBeInstanceOf(NoAnswerError);
      expect(isTransientDatabaseError(checking)).toBe(true);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(hold!.lost.aborted).toBe(true);
      // The silenced session still holds the lock in PostgreSQL until it is gone; the fresh connection takes the lock
      // once the old session ends (the lock connection ended it on its side, and the server notices the dead socket).
      await sql`select pg_terminate_backend(${hold!.pid})`;
      const again = await lock.acquire(new AbortController().signal, () => {});
      expect(again!.pid).not.toBe(hold!.pid);
      expect(await again!.check()).toBe(true);
    } finally {
      await lock.close();
      await client.end({ timeout: 1 });
      await proxy.close();
    }
  });

  it("is released when the lock is closed, as when the process dies", async () => {
    const holder = lockOf("closed");
    await holder.acquire(new AbortController().signal, () => {});
    const other = lockOf("closed").acquire(new AbortController().signal, () => {});
    await holder.close();
    expect(await (await other)!.check()).toBe(true);
  });
});
