import { Ajv, type ErrorObject, type Options } from "ajv";
import { Ajv2019 } from "ajv/dist/2019.js";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { LRUCache } from "lru-cache";
import { ValidationError } from "../domain/errors.js";
import { checkJsonDepth } from "../domain/json-depth.js";
import type { JsonObject } from "../domain/json-document.js";

/** One way a document breaks its type's schema; `path` is a JSON Pointer into the document, "" for the root. */
export interface Violation {
  readonly path: string;
  readonly message: string;
}

/** A type's schema, ready to check documents: Create and Update call this on every write. */
export interface CompiledSchema {
  /** Every violation (not just the first), so a caller can fix a document in one go; empty when it is valid. */
  validate(doc: JsonObject): Violation[];
}

type AjvClass = typeof Ajv | typeof Ajv2019 | typeof Ajv2020;

const dialects: ReadonlyMap<string, AjvClass> = new Map<string, AjvClass>([
  ["http://json-schema.org/draft-07/schema", Ajv],
  ["https://json-schema.org/draft/2019-09/schema", Ajv2019],
  ["https://json-schema.org/draft/2020-12/schema", Ajv2020],
]);

// strict: false because users' schemas may carry keywords of their own; logger: false keeps ajv off the console.
const options: Options = { allErrors: true, strict: false, logger: false };
/** Compiled schemas kept: at most this many, and at most this many characters of schema text together. */
const cacheSize = 256;
const cacheChars = 16 * 1024 * 1024;
/**
 * Deepest nesting of a JSON Schema's text. ajv compiles recursively and overflowed the stack at about 2,000 levels
 * (measured); a schema describing a document as deep as ESKIT_MAX_DOCUMENT_DEPTH allows (at most 200, and each level
 * of a document takes two in its schema: the subschema and its `properties`) fits.
 */
export const maxSchemaDepth = 512;
// Bounded by total text too: a compiled schema's memory grows with its text, and 256 schemas of megabytes would not
// fit. A schema larger than the whole bound is compiled each time, never kept.
const cache = new LRUCache<string, CompiledSchema>({
  max: cacheSize,
  maxSize: cacheChars,
  sizeCalculation: (_compiled, text) => Math.max(1, text.length),
});
// Checks schemas against their dialect's meta-schema. It only ever validates, never adds a schema, so sharing it is
// safe; building one per compile would recompile the meta-schema each time (about 5 ms instead of 1).
const metaValidators = new Map<AjvClass, InstanceType<AjvClass>>();

/**
 * Compiles a type's JSON Schema (draft-07, 2019-09 or 2020-12, picked by `$schema`; draft-07 when absent), with
 * `format` checked. Throws ValidationError for anything that is not a usable schema. Results are cached by text.
 */
export function compileJsonSchema(text: string): CompiledSchema {
  const cached = cache.get(text);
  if (cached !== undefined) return cached;
  const compiled = compile(text);
  cache.set(text, compiled);
  return compiled;
}

/**
 * Renders violations for an error message, in ajv's order, the root as "/":
 * `/age: must be >= 0; /: must have required property 'email'`.
 */
export function formatViolations(violations: Violation[]): string {
  return violations.map(({ path, message }) => `${path || "/"}: ${message}`).join("; ");
}

function compile(text: string): CompiledSchema {
  checkJsonDepth(text, maxSchemaDepth, "the JSON Schema");
  let schema: unknown;
  try {
    schema = JSON.parse(text);
  } catch (error) {
    throw new ValidationError(`the JSON Schema is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  if (typeof schema !== "boolean" && (typeof schema !== "object" || schema === null || Array.isArray(schema))) {
    throw new ValidationError("the JSON Schema must be a JSON object or a boolean");
  }
  const dialect = dialectOf(schema);
  const meta = metaValidator(dialect);
  if (!meta.validateSchema(schema)) {
    throw new ValidationError(`the JSON Schema is invalid: ${meta.errorsText(meta.errors, { dataVar: "schema" })}`);
  }
  try {
    // A fresh instance per schema: a shared one would register every `$id` (nested ones too), so two types that
    // happen to use the same `$id` would clash, and its internal cache would keep every schema ever compiled.
    const ajv = new dialect({ ...options, validateSchema: false });
    addFormats.default(ajv);
    const validate = ajv.compile(schema);
    return {
      validate(doc) {
        return validate(doc) ? [] : (validate.errors ?? []).map(toViolation);
      },
    };
  } catch (error) {
    throw new ValidationError(`the JSON Schema cannot be compiled: ${(error as Error).message}`, { cause: error });
  }
}

function dialectOf(schema: boolean | object): AjvClass {
  const declared = typeof schema === "object" && "$schema" in schema ? schema.$schema : undefined;
  if (declared === undefined) return Ajv;
  const dialect = typeof declared === "string" ? dialects.get(declared.replace(/#$/u, "")) : undefined;
  if (dialect === undefined) {
    throw new ValidationError(
      `the JSON Schema's $schema ${JSON.stringify(declared)} is not supported: use one of ` +
        `${[...dialects.keys()].join(", ")} (or none for draft-07)`,
    );
  }
  return dialect;
}

function metaValidator(dialect: AjvClass): InstanceType<AjvClass> {
  let meta = metaValidators.get(dialect);
  if (meta === undefined) {
    meta = new dialect(options);
    // Formats matter here too: the meta-schemas check that `pattern` is a regex and `$id` a URI reference.
    addFormats.default(meta);
    metaValidators.set(dialect, meta);
  }
  return meta;
}

function toViolation(error: ErrorObject): Violation {
  const message = error.message ?? error.keyword;
  // ajv's message does not say which property is extra; without it the caller cannot find it.
  const extra: unknown = error.params["additionalProperty"] ?? error.params["unevaluatedProperty"];
  return { path: error.instancePath, message: typeof extra === "string" ? `${message}: '${extra}'` : message };
}
