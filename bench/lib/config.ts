/**
 * The benchmarks' knobs, read once from the environment. Defaults keep a full `make bench` to a few minutes on a
 * 2-core machine; every figure the tables print depends on them, so they are printed too (see `describeConfig`).
 */
export interface BenchConfig {
  /** PostgreSQL URL whose server hosts the fresh databases; its own database is only used to CREATE/DROP them. */
  readonly databaseUrl: string;
  /** Measured duration of each throughput cell. */
  readonly seconds: number;
  /** Unmeasured run before each cell, so pools, prepared statements and JIT are warm. */
  readonly warmupSeconds: number;
  /** "process" (default): the store runs as a child process; "inprocess": in the benchmark's own event loop. */
  readonly server: "process" | "inprocess";
  /** When set, the child store runs with `--cpu-prof` and writes its profiles here. */
  readonly cpuProfDir: string | undefined;
  /** More Node flags for the child store (e.g. `--trace-gc`), from BENCH_STORE_FLAGS split at spaces. */
  readonly storeFlags: readonly string[];
  /** The child store's stdout and stderr go to the benchmark's own (BENCH_STORE_OUTPUT=1), e.g. for `--trace-gc`. */
  readonly storeOutput: boolean;
  /** Upper bound of the raw baseline's connection pool (the pool is min(concurrency, this)). */
  readonly rawPoolMax: number;
  readonly latencyEvents: number;
  readonly latencyRate: number;
  /** Benchmark 2's fan-out cell: streams open at once, appends per second, and how many. */
  readonly fanOutStreams: number;
  readonly fanOutRate: number;
  readonly fanOutEvents: number;
  readonly catchUpEvents: number;
  /** Benchmark 6: the log the JetStream bridge publishes, and the NATS server (with JetStream) it publishes to. */
  readonly bridgeEvents: number;
  readonly natsUrl: string;
  /** Benchmark 7: the log projected by `project()` and inserted raw, and the batch sizes (entries per transaction). */
  readonly projectionEvents: number;
  readonly projectionBatches: readonly number[];
  /**
   * Whether benchmark 1 measures a cell: all of them unless BENCH_APPEND_CELLS lists some, as
   * `<events per request>x<concurrency>` separated by commas (e.g. `100x4,100x16`).
   */
  readonly appendCells: (cell: { eventsPerRequest: number; concurrency: number }) => boolean;
}

function number(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min)
    throw new Error(`${name} must be a number >= ${min}, got ${JSON.stringify(raw)}`);
  return value;
}

/** Parses the BENCH_* variables (and DATABASE_URL); throws on a malformed one. */
export function loadBenchConfig(): BenchConfig {
  const server = process.env.BENCH_SERVER ?? "process";
  if (server !== "process" && server !== "inprocess") throw new Error(`BENCH_SERVER must be process or inprocess`);
  return {
    databaseUrl: process.env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/test",
    seconds: number("BENCH_SECONDS", 5, 0.1),
    warmupSeconds: number("BENCH_WARMUP_SECONDS", 1, 0),
    server,
    cpuProfDir: process.env.BENCH_CPU_PROF || undefined,
    storeFlags: (process.env.BENCH_STORE_FLAGS ?? "").split(" ").filter((flag) => flag !== ""),
    storeOutput: process.env.BENCH_STORE_OUTPUT === "1",
    rawPoolMax: number("BENCH_RAW_POOL_MAX", 64, 1),
    latencyEvents: Math.max(1000, number("BENCH_LATENCY_EVENTS", 2000, 1)),
    latencyRate: number("BENCH_LATENCY_RATE", 200, 1),
    fanOutStreams: number("BENCH_FANOUT_STREAMS", 100, 1),
    fanOutRate: number("BENCH_FANOUT_RATE", 2000, 1),
    fanOutEvents: number("BENCH_FANOUT_EVENTS", 10_000, 100),
    catchUpEvents: number("BENCH_CATCHUP_EVENTS", 100_000, 1000),
    bridgeEvents: number("BENCH_BRIDGE_EVENTS", 50_000, 1000),
    natsUrl: process.env.NATS_URL || "nats://127.0.0.1:4222",
    projectionEvents: number("BENCH_PROJECTION_EVENTS", 100_000, 1000),
    projectionBatches: batchSizes(process.env.BENCH_PROJECTION_BATCHES ?? "100,500"),
    appendCells: cellFilter(process.env.BENCH_APPEND_CELLS ?? ""),
  };
}

/** One line naming the settings a table was measured with. */
export function describeConfig(c: BenchConfig): string {
  return (
    `BENCH_SECONDS=${c.seconds} warm-up=${c.warmupSeconds}s server=${c.server}` +
    ` LOG_LEVEL=${process.env.LOG_LEVEL ?? "warn"} ESKIT_DB_POOL_SIZE=${process.env.ESKIT_DB_POOL_SIZE ?? "(default)"}`
  );
}

/** BENCH_PROJECTION_BATCHES: batch sizes separated by commas, each 1 to 10,000. */
function batchSizes(list: string): number[] {
  const sizes = list.split(",").filter((item) => item.trim() !== "");
  const parsed = sizes.map(Number);
  if (parsed.length === 0 || parsed.some((n) => !Number.isInteger(n) || n < 1 || n > 10_000)) {
    throw new Error(`BENCH_PROJECTION_BATCHES must list batch sizes from 1 to 10000, got ${JSON.stringify(list)}`);
  }
  return parsed;
}

function cellFilter(list: string): BenchConfig["appendCells"] {
  const wanted = list.split(",").filter((item) => item.trim() !== "");
  for (const item of wanted) {
    if (!/^\s*\d+x\d+\s*$/u.test(item)) throw new Error(`BENCH_APPEND_CELLS: "${item}" is not <events>x<concurrency>`);
  }
  const cells = new Set(wanted.map((item) => item.trim()));
  return (cell) => cells.size === 0 || cells.has(`${cell.eventsPerRequest}x${cell.concurrency}`);
}
