import { ValidationError } from "../domain/errors.js";
import type { TypeSpec } from "../registry/type-registry.js";

/**
 * A type spec as both CrudStoreServices carry it (ours and the v1 contract's messages have the same fields), so one
 * conversion serves both.
 */
export interface SpecFields {
  entityType: string;
  schemaSpec?: { schemaVersion: bigint; jsonSchema: string };
}

/** `value`, or ValidationError naming `field` when a required message field is absent. */
export function required<T>(value: T | undefined, field: string): T {
  if (value === undefined) throw new ValidationError(`${field} is required`);
  return value;
}

/** The registry's spec from a request's `spec` field (required). */
export function specOf(spec: SpecFields | undefined): TypeSpec {
  const s = required(spec, "spec");
  return {
    entityType: s.entityType,
    schemaVersion: s.schemaSpec?.schemaVersion ?? 0n,
    jsonSchema: s.schemaSpec?.jsonSchema ?? "",
  };
}

/** A registry spec as the fields of a `CrudEntitySpec` message. */
export function toSpecMessage(spec: TypeSpec): Required<SpecFields> {
  return {
    entityType: spec.entityType,
    schemaSpec: { schemaVersion: spec.schemaVersion, jsonSchema: spec.jsonSchema },
  };
}
