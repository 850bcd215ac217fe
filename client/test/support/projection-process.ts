/**
 * The test's side of the processes that the kill -9 tests kill: starts projector-process.ts or rebuilder-process.ts
 * as `node --import tsx <file>` (so that SIGKILL hits the projecting process itself), passes its settings in the
 * environment those files document, and follows what it prints: each batch its handler starts, before the batch
 * commits, and a rebuild's switch-over.
 */
import { spawn } from "node:child_process";
import { repoRoot } from "@eskit/test-kit/event-store.js";

/** Which process: `projector` runs project(), `rebuilder` runs rebuild() and exits 0 once it has switched over. */
export type ProjectionProcessKind = "projector" | "rebuilder";

export interface ProjectionProcessOptions {
  readonly eventStoreUrl: string;
  readonly databaseUrl: string;
  readonly name: string;
  readonly selector: string;
  /** Before the read model's table names. */
  readonly tablePrefix: string;
  readonly batchSize: number;
  /** How long the handler sleeps in each batch's transaction, after its writes: the window a kill lands in. */
  readonly sleepMs: number;
  /** A rebuilder's `switchWithin`. */
  readonly switchWithin?: number;
}

export interface ProjectionProcess {
  readonly pid: number;
  /** `[first, last]` of each batch its handler started, in order. */
  readonly batches: Array<[bigint, bigint]>;
  /** The position a rebuilder switched over at; undefined until it has. */
  switched(): bigint | undefined;
  /** Its exit code, null when a signal ended it. */
  readonly exited: Promise<number | null>;
  /** The end of its stderr (its log), headed by what it is, for a failure's message. */
  logTail(): string;
  kill(signal: NodeJS.Signals): void;
  /** Kills it with SIGKILL unless it has exited; resolves once it has. */
  stop(): Promise<void>;
}

export function startProjectionProcess(
  kind: ProjectionProcessKind,
  options: ProjectionProcessOptions,
): ProjectionProcess {
  const child = spawn(process.execPath, ["--import", "tsx", `client/test/support/${kind}-process.ts`], {
    cwd: repoRoot,
    env: {
      ...process.env,
      ESKIT_URL: options.eventStoreUrl,
      PROJECTION_DATABASE_URL: options.databaseUrl,
      PROJECTION_NAME: options.name,
      PROJECTION_SELECTOR: options.selector,
      PROJECTION_TABLE_PREFIX: options.tablePrefix,
      PROJECTION_BATCH_SIZE: String(options.batchSize),
      PROJECTION_SLEEP_MS: String(options.sleepMs),
      ...(options.switchWithin === undefined ? {} : { REBUILD_SWITCH_WITHIN: String(options.switchWithin) }),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const batches: Array<[bigint, bigint]> = [];
  let switched: bigint | undefined;
  let pending = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    const lines = (pending + chunk).split("\n");
    pending = lines.pop()!;
    for (const text of lines) {
      const [word, first, last] = text.split(" ");
      if (word === "applying") batches.push([BigInt(first!), BigInt(last!)]);
      if (word === "switched") switched = BigInt(first!);
    }
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    pid: child.pid ?? -1,
    batches,
    switched: () => switched,
    exited,
    logTail: () => `${kind} ${child.pid ?? -1}:\n${err.slice(-3000)}`,
    kill: (signal) => void child.kill(signal),
    async stop() {
      child.kill("SIGKILL");
      await exited;
    },
  };
}

/** The log tails of `processes`, for a timeout's message (`explain` of wait-for.ts). */
export function logTails(processes: readonly ProjectionProcess[]): string {
  return processes.map((p) => p.logTail()).join("\n");
}
