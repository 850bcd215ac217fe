/**
 * The Crud Store benchmark's own knobs, read once from the environment beside the shared ones of `config.ts`. They
 * are printed under its tables (see `describeCrudConfig`), since every figure depends on them.
 */
export interface CrudBenchConfig {
  /** "postgres": a fresh database on the server of DATABASE_URL, as the other benchmarks; "pglite": embedded, in a temp dir. */
  readonly storage: "postgres" | "pglite";
  /** Documents created for the List cells (each read back in full, so 10,000 means 10 pages of 1000). */
  readonly listEntities: number;
  /** Updates of the long-history document B of the Get cells (each changes one field of a 20-field document). */
  readonly updates: number;
  /** Concurrency of the second Create cell and of the seeding of the List documents. */
  readonly concurrency: number;
  /** Rounds of the List cells (full, skip_payload, raw in turn); the best of them counts. */
  readonly listRounds: number;
}

function integer(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min)
    throw new Error(`${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}`);
  return value;
}

/** Parses the BENCH_STORAGE and BENCH_CRUD_* variables; throws on a malformed one. */
export function loadCrudBenchConfig(): CrudBenchConfig {
  const storage = process.env.BENCH_STORAGE || "postgres";
  if (storage !== "postgres" && storage !== "pglite")
    throw new Error(`BENCH_STORAGE must be postgres or pglite, got ${JSON.stringify(storage)}`);
  return {
    storage,
    listEntities: integer("BENCH_CRUD_ENTITIES", 10_000, 1),
    updates: integer("BENCH_CRUD_UPDATES", 1000, 1),
    concurrency: integer("BENCH_CRUD_CONCURRENCY", 16, 2),
    listRounds: integer("BENCH_CRUD_LIST_ROUNDS", 2, 1),
  };
}

/** One line naming the crud-specific settings. */
export function describeCrudConfig(c: CrudBenchConfig): string {
  return (
    `BENCH_STORAGE=${c.storage} BENCH_CRUD_ENTITIES=${c.listEntities} BENCH_CRUD_UPDATES=${c.updates}` +
    ` BENCH_CRUD_CONCURRENCY=${c.concurrency} BENCH_CRUD_LIST_ROUNDS=${c.listRounds}`
  );
}
