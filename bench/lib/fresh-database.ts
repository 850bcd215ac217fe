import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { drizzle } from "drizzle-orm/postgres-js";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";

/** A database created for one benchmark; `drop()` removes it (and cuts any connection left to it). */
export interface FreshDatabase {
  readonly url: string;
  readonly name: string;
  drop(): Promise<void>;
}

const migrationsFolder = fileURLToPath(new URL("../../event-store/migrations", import.meta.url));

/**
 * Creates an empty database `eskit_bench_<label>_<random>` on the server of `baseUrl`, so a benchmark never sees
 * another run's rows and never touches the database it was pointed at.
 */
export async function createFreshDatabase(baseUrl: string, label: string): Promise<FreshDatabase> {
  const name = `eskit_bench_${label}_${randomBytes(4).toString("hex")}`;
  const admin = postgres(baseUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const dropper = postgres(baseUrl, { max: 1, onnotice: () => {} });
      try {
        await dropper.unsafe(`drop database if exists "${name}" with (force)`);
      } finally {
        await dropper.end();
      }
    },
  };
}

/**
 * Applies event-store/migrations with the same Drizzle migrator the store runs at start-up, so a raw baseline
 * writes into exactly the store's tables, indexes and triggers (including the log's advisory lock).
 */
export async function applyMigrations(url: string): Promise<void> {
  const client = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await migrate(drizzle(client), { migrationsFolder });
  } finally {
    await client.end();
  }
}
