import { readFileSync } from "node:fs";
import type { WindowProbe } from "./closed-loop.js";
import type { CpuMeter } from "./cpu-meter.js";

/** CPU used during a window by each part of a Crud Store stack, in % of one core (NaN when unknown). */
export interface StackCpu {
  readonly client: number;
  readonly crud: number;
  readonly eventStore: number;
  readonly postgres: number;
}

const ticksPerSecond = 100; // USER_HZ on Linux

function processSeconds(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    return NaN;
  }
}

/**
 * Where the CPU went while a Crud Store cell ran: this process (the load generator), the Crud Store's and the Event
 * Store's processes, and PostgreSQL (through `CpuMeter`, which counts the backends of the bench databases; absent
 * on PGlite, which runs inside the Event Store's process). It tells whether a slow cell is bound by the Crud Store's
 * event loop (≈100 %), the Event Store's, or the database.
 */
export class StackCpuMeter implements WindowProbe<StackCpu> {
  private startedAt = 0;
  private clientStart = process.cpuUsage();
  private crudStart = NaN;
  private eventStoreStart = NaN;

  constructor(
    private readonly crudPids: readonly (number | undefined)[],
    private readonly eventStorePid: number | undefined,
    private readonly postgres: CpuMeter | undefined,
  ) {}

  async start(): Promise<void> {
    await this.postgres?.start();
    this.crudStart = this.crudSeconds();
    this.eventStoreStart = processSeconds(this.eventStorePid);
    this.clientStart = process.cpuUsage();
    this.startedAt = performance.now();
  }

  async stop(): Promise<StackCpu> {
    const wall = (performance.now() - this.startedAt) / 1000;
    const client = process.cpuUsage(this.clientStart);
    const crud = this.crudSeconds() - this.crudStart;
    const eventStore = processSeconds(this.eventStorePid) - this.eventStoreStart;
    const postgres = this.postgres === undefined ? NaN : (await this.postgres.stop()).postgres;
    const pct = (seconds: number) => (100 * seconds) / wall;
    return { client: pct((client.user + client.system) / 1e6), crud: pct(crud), eventStore: pct(eventStore), postgres };
  }

  /** Every Crud Store process together (the idle one adds next to nothing). */
  private crudSeconds(): number {
    return this.crudPids.reduce<number>((sum, pid) => sum + processSeconds(pid), 0);
  }
}

/** "client / crud / event store / pg" CPU shares as whole percents. */
export function formatStackCpu(share: StackCpu): string {
  const p = (n: number) => (Number.isFinite(n) ? `${Math.round(n)}` : "-");
  return `${p(share.client)}/${p(share.crud)}/${p(share.eventStore)}/${p(share.postgres)}`;
}
