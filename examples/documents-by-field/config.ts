/**
 * The example's settings, read once from the environment at start-up (see README.md for each). Everything has a
 * default that works against `make run` except the read model's database, which must be a PostgreSQL server: the
 * projection holds a session advisory lock on a connection of its own, which PGlite (one connection) cannot give.
 */

/** What the example runs with. */
export interface ExampleConfig {
  /** The Event Store, whose Application Log carries the Crud Store's document events. */
  readonly eventStoreUrl: string;
  /** The read model's PostgreSQL: the `customers` table and the projection's position (`eskit_projections`). */
  readonly databaseUrl: string;
  /** The entity type whose documents are projected, as the Crud Store names it (`acme.Customer`). */
  readonly entityType: string;
  /** Entries per handler call and transaction. */
  readonly batchSize: number;
  /** Where the query API listens. */
  readonly host: string;
  readonly port: number;
  /** A bearer token for an Event Store with access control (a read token is enough: a projection only reads). */
  readonly token: string | undefined;
}

/** Parses the environment; throws one error naming every variable that is wrong. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ExampleConfig {
  const problems: string[] = [];
  const text = (name: string, fallback?: string): string => {
    const value = env[name]?.trim() || fallback;
    if (value === undefined) problems.push(`${name} is not set`);
    return value ?? "";
  };
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === "") return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be an integer from ${min} to ${max}, not ${JSON.stringify(raw)}`);
    }
    return value;
  };
  const config: ExampleConfig = {
    eventStoreUrl: text("EVENT_STORE_URL", "http://127.0.0.1:8081"),
    databaseUrl: text("DATABASE_URL"),
    entityType: text("ENTITY_TYPE", "acme.Customer"),
    batchSize: integer("BATCH_SIZE", 500, 1, 10_000),
    host: text("HOST", "127.0.0.1"),
    port: integer("PORT", 8090, 0, 65_535),
    token: env["ESKIT_TOKEN"]?.trim() || undefined,
  };
  if (problems.length > 0) {
    throw new Error(
      `documents-by-field: ${problems.join("; ")} (DATABASE_URL: a PostgreSQL database for the read model, ` +
        `e.g. postgres://postgres@127.0.0.1:5432/postgres)`,
    );
  }
  return config;
}
