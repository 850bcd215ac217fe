import { readFileSync } from "node:fs";
import postgres from "postgres";

/** CPU used during a window, in % of one core (200 % = both cores of a 2-core machine). */
export interface CpuShare {
  readonly client: number;
  readonly server: number;
  readonly postgres: number;
}

const ticksPerSecond = 100; // USER_HZ on Linux

/** utime + stime of a process in seconds, or undefined when it is gone or /proc is absent. */
function processSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    return undefined;
  }
}

/**
 * Measures where the CPU goes during a measured window: this process (the load-generating client), the store's
 * process, and PostgreSQL (the backends connected to the benchmark's databases plus the WAL writer, background
 * writer and checkpointer, so other users of the same server are left out). It tells whether a slow cell is
 * bound by the client, the store's event loop (≈100 %) or PostgreSQL. Linux only; elsewhere the shares are NaN.
 */
export class CpuMeter {
  private readonly admin;
  private startedAt = 0;
  private clientStart = process.cpuUsage();
  private serverStart: number | undefined;
  private pgStart = new Map<number, number>();

  constructor(
    adminUrl: string,
    private readonly databases: readonly string[],
    private readonly serverPid: number | undefined,
  ) {
    this.admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  }

  async start(): Promise<void> {
    this.pgStart = await this.postgresSeconds();
    this.serverStart = this.serverPid === undefined ? undefined : processSeconds(this.serverPid);
    this.clientStart = process.cpuUsage();
    this.startedAt = performance.now();
  }

  async stop(): Promise<CpuShare> {
    const wall = (performance.now() - this.startedAt) / 1000;
    const client = process.cpuUsage(this.clientStart);
    const serverNow = this.serverPid === undefined ? undefined : processSeconds(this.serverPid);
    const pgNow = await this.postgresSeconds();
    let pg = 0;
    // A backend that connected during the window counts from zero, which is what it used inside the window.
    for (const [pid, seconds] of pgNow) pg += seconds - (this.pgStart.get(pid) ?? 0);
    const pct = (seconds: number) => (100 * seconds) / wall;
    return {
      client: pct((client.user + client.system) / 1e6),
      server: serverNow === undefined || this.serverStart === undefined ? NaN : pct(serverNow - this.serverStart),
      postgres: pgNow.size === 0 ? NaN : pct(pg),
    };
  }

  async close(): Promise<void> {
    await this.admin.end();
  }

  private async postgresSeconds(): Promise<Map<number, number>> {
    const rows = await this.admin<{ pid: number }[]>`
      select pid from pg_stat_activity
      where datname in ${this.admin(this.databases)}
         or backend_type in ('walwriter', 'background writer', 'checkpointer')`;
    const seconds = new Map<number, number>();
    for (const { pid } of rows) {
      const s = processSeconds(pid);
      if (s !== undefined) seconds.set(pid, s);
    }
    return seconds;
  }
}

/** "client / server / pg" CPU shares as whole percents. */
export function formatCpu(share: CpuShare): string {
  const p = (n: number) => (Number.isFinite(n) ? `${Math.round(n)}` : "-");
  return `${p(share.client)}/${p(share.server)}/${p(share.postgres)}`;
}
