import {
  resolveProjectionOptions,
  type ProjectionOptions,
  type ResolvedProjectionOptions,
} from "./projection-options.js";
import type { RebuildStatus } from "./projection-rebuild-progress.js";

/** Options of `rebuild()`: those of the live projection it rebuilds, and which tables it replaces. */
export interface RebuildOptions<Tx> extends ProjectionOptions<Tx> {
  /**
   * The read model's tables, as the handler names them through `context.table()` (`"orders"`, or `"schema.orders"`):
   * each is built afresh as `<table>__rebuild` and replaces the live one at the switch-over. Every table the handler
   * and `setup` write must be listed (`context.table()` throws for any other), and `setup` must create them all.
   */
  tables: readonly string[];
  /**
   * Drop what an interrupted rebuild of the same version built and replay from the first entry, instead of resuming
   * where it stopped (needed when the handler or `setup` changed without a change of `version`). Default false.
   */
  startOver?: boolean;
  /**
   * The rebuild switches over once at most this many entries are left to replay (checked every `statusIntervalMs`):
   * the switch-over applies them itself, in batches of `batchSize`, while the live projection waits for it. A
   * handler slower than the log grows cannot catch up any closer. 1–999, default 500.
   */
  switchWithin?: number;
  /**
   * How long the switch-over waits for the live tables' locks (held by readers' open transactions) before it rolls
   * back and tries again after a backoff, in ms: while it waits, new readers of those tables queue behind it.
   * Default 1000.
   */
  switchLockTimeoutMs?: number;
  /** Called with the rebuild's progress every `statusIntervalMs`, and once it switched over. A throw is logged. */
  onProgress?: (status: RebuildStatus) => void;
}

/** One table of the read model: its live name and the fresh one the rebuild fills. */
export interface RebuildTable {
  /** As the handler names it: `table` or `schema.table`. */
  readonly base: string;
  readonly fresh: string;
  readonly schema: string | undefined;
  /** The table's own name, without schema: what the fresh one is renamed to. */
  readonly table: string;
  /** The fresh table's own name, without schema: the prefix of its indexes' names that the switch-over renames. */
  readonly freshTable: string;
}

/** {@link RebuildOptions} checked once. */
export interface ResolvedRebuild {
  /** The live projection's name: the row and lock the switch-over takes. */
  readonly live: string;
  /** The options of the rebuild's own run, whose row and lock are named {@link rebuildName}`(live)`. */
  readonly o: ResolvedProjectionOptions;
  readonly tables: readonly RebuildTable[];
  /** `context.table()` of the rebuild: the fresh name of a listed table; throws for any other. */
  readonly freshName: (base: string) => string;
  readonly startOver: boolean;
  readonly switchWithin: number;
  readonly switchLockTimeoutMs: number;
}

/** What a rebuild's fresh tables are named after: `<table>__rebuild`. */
export const freshSuffix = "__rebuild";
const rebuildSuffix = "#rebuild";
const maxNameLength = 255;
// PostgreSQL truncates longer identifiers (NAMEDATALEN − 1 bytes), which would make two names one.
const maxIdentifierBytes = 63;

/** The name of the row and lock of the rebuild of projection `live`, beside the live projection's own. */
export function rebuildName(live: string): string {
  return live + rebuildSuffix;
}

/** Checks the rebuild's settings before anything connects; a bad one throws. */
export function resolveRebuildOptions(options: RebuildOptions<unknown>): ResolvedRebuild {
  const live = options.name;
  if (typeof live === "string" && live.length > maxNameLength - rebuildSuffix.length) {
    throw new RangeError(
      `the name of a projection to rebuild must be at most ${maxNameLength - rebuildSuffix.length} characters`,
    );
  }
  // The live projection's own checks (name, version, batch size, ...) hold for the rebuild's run, which reports
  // nothing to the Event Store's consumers: it is not a consumer anyone should watch once it switched over.
  const checked = resolveProjectionOptions({ ...options, reportPosition: false });
  const o: ResolvedProjectionOptions = { ...checked, name: rebuildName(live) };
  if (!Array.isArray(options.tables) || options.tables.length === 0) {
    throw new TypeError("rebuild() needs `tables`: the read model's tables, as the handler names them");
  }
  const tables = options.tables.map(rebuildTable);
  const byBase = new Map(tables.map((t) => [t.base, t]));
  if (byBase.size !== tables.length) throw new RangeError("rebuild(): `tables` lists a table twice");
  const switchWithin = options.switchWithin ?? 500;
  if (!Number.isInteger(switchWithin) || switchWithin < 1 || switchWithin > 999) {
    throw new RangeError(`switchWithin must be an integer from 1 to 999, not ${switchWithin}`);
  }
  const switchLockTimeoutMs = options.switchLockTimeoutMs ?? 1000;
  if (!Number.isInteger(switchLockTimeoutMs) || switchLockTimeoutMs < 1 || switchLockTimeoutMs > 3_600_000) {
    throw new RangeError(`switchLockTimeoutMs must be an integer from 1 to 3600000, not ${switchLockTimeoutMs}`);
  }
  return {
    live,
    o,
    tables,
    freshName: (base) => {
      const table = byBase.get(base);
      if (table === undefined) {
        throw new RangeError(
          `rebuild of ${JSON.stringify(live)}: table ${JSON.stringify(base)} is not in \`tables\`, so it would not be ` +
            `rebuilt nor switched over: list it`,
        );
      }
      return table.fresh;
    },
    startOver: options.startOver ?? false,
    switchWithin,
    switchLockTimeoutMs,
  };
}

/** Splits `base` as postgres.js reads an identifier (`tx("schema.table")` is `"schema"."table"`), and names its fresh table. */
function rebuildTable(base: unknown): RebuildTable {
  const parts = typeof base === "string" ? base.split(".") : [];
  if (parts.length < 1 || parts.length > 2 || parts.some((part) => part === "" || part.includes("\u0000"))) {
    throw new RangeError(`rebuild(): a table must be named "table" or "schema.table", not ${JSON.stringify(base)}`);
  }
  const table = parts.at(-1)!;
  const freshTable = table + freshSuffix;
  if (Buffer.byteLength(freshTable) > maxIdentifierBytes) {
    throw new RangeError(
      `rebuild(): table ${JSON.stringify(table)} is too long to rebuild: ${JSON.stringify(freshTable)} would be over ` +
        `PostgreSQL's ${maxIdentifierBytes} bytes`,
    );
  }
  const schema = parts.length === 2 ? parts[0] : undefined;
  return {
    base: base as string,
    fresh: (schema === undefined ? "" : `${schema}.`) + freshTable,
    schema,
    table,
    freshTable,
  };
}
