/**
 * Validation against the Compose Specification's JSON Schema (deploy/schema/compose-spec.json, draft-07), the check
 * `docker compose config` makes before anything else, done here without Docker.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv, type ErrorObject } from "ajv";
import { repoRoot } from "./compose-file.js";

export const composeSchemaPath = join(repoRoot, "deploy/schema/compose-spec.json");

/** Returns one line per violation of the Compose Specification (empty when `document` is valid). */
export type ComposeValidator = (document: unknown) => string[];

/** Compiles the vendored schema once; the returned function validates parsed, interpolated Compose documents. */
export function composeValidator(): ComposeValidator {
  const schema = JSON.parse(readFileSync(composeSchemaPath, "utf8")) as { $schema: string };
  // strict: false because the schema uses union types and other forms ajv's strict mode only warns about.
  const ajv = new Ajv({ allErrors: true, strict: false, logger: false });
  // The schema names draft-07 by its https address, which ajv does not know by that name.
  const draft07 = ajv.getSchema("http://json-schema.org/draft-07/schema")?.schema;
  if (draft07 === undefined) throw new Error("ajv has no draft-07 meta-schema");
  if (schema.$schema !== "http://json-schema.org/draft-07/schema#")
    ajv.addMetaSchema(draft07 as object, schema.$schema);
  const validate = ajv.compile(schema);
  return (document) => (validate(document) ? [] : (validate.errors ?? []).map(describe));
}

function describe(error: ErrorObject): string {
  const where = error.instancePath === "" ? "/" : error.instancePath;
  const extra = "additionalProperty" in error.params ? ` (${String(error.params["additionalProperty"])})` : "";
  return `${where}: ${error.message ?? error.keyword}${extra}`;
}
