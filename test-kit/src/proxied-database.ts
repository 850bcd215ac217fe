/**
 * A fresh PostgreSQL database reached through a TCP proxy, so a test can cut, black-hole or slow the path between an
 * Event Store and its database without touching the server other tests share.
 */
import postgres from "postgres";
import { dropDatabase, freshDatabaseUrl } from "./event-store.js";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.js";

/** A database behind a proxy: `proxiedUrl` for the store, `directUrl` for the test's own checks. */
export interface ProxiedDatabase {
  readonly directUrl: string;
  readonly proxiedUrl: string;
  readonly proxy: TcpProxy;
  /**
   * Holds the lock every append takes (the events trigger's advisory lock) for `ms` from a connection of the test's
   * own: appends stall inside PostgreSQL, as behind a long transaction. Resolves once the lock is taken, with a
   * promise of its release.
   */
  stallAppends(ms: number): Promise<{ released: Promise<void> }>;
  /** Drops the database and closes the proxy. */
  remove(): Promise<void>;
}

/** The advisory lock key of the log's trigger (event-store/migrations/0003_events_are_the_log.sql). */
const logLockKey = 7245308061;

/** Creates a fresh database on `serverUrl` and a proxy in front of it. */
export async function proxiedDatabase(serverUrl: string): Promise<ProxiedDatabase> {
  const directUrl = await freshDatabaseUrl(serverUrl);
  const direct = new URL(directUrl);
  const proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
  const proxied = new URL(directUrl);
  proxied.hostname = "127.0.0.1";
  proxied.port = String(proxy.port);
  const sql = postgres(directUrl, { max: 1, onnotice: () => {} });
  return {
    directUrl,
    proxiedUrl: proxied.toString(),
    proxy,
    async stallAppends(ms) {
      let locked!: () => void;
      const taken = new Promise<void>((resolve) => (locked = resolve));
      const released = sql
        .begin(async (tx) => {
          await tx`select pg_advisory_xact_lock(${logLockKey})`;
          locked();
          await new Promise((resolve) => setTimeout(resolve, ms));
        })
        .then(() => {});
      await taken;
      return { released };
    },
    async remove() {
      await sql.end({ timeout: 5 });
      await proxy.close();
      await dropDatabase(directUrl);
    },
  };
}
