import { defineConfig } from "drizzle-kit";

/** drizzle-kit reads this to generate SQL migrations from the schema; the service applies them at start-up. */
export default defineConfig({
  dialect: "postgresql",
  schema: "./event-store/src/storage/schema.ts",
  out: "./event-store/migrations",
});
