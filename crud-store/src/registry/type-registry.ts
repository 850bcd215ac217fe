import {
  AlreadyExistsError,
  ConcurrencyError,
  CorruptHistoryError,
  NotFoundError,
  PreconditionError,
  SchemaViolationError,
  ValidationError,
  VersionTakenError,
} from "../domain/errors.js";
import type { JsonObject } from "../domain/json-document.js";
import { checkEntityType, registryEntityType, registryIdPrefix } from "../domain/names.js";
import { sourceKey, sourceValue } from "../store/event-codec.js";
import type { CallScope, EventStorePort, StoredEvent } from "../store/event-store-port.js";
import { decodePageToken, encodePageToken } from "../store/page-token.js";
import { compileJsonSchema, formatViolations } from "./json-schema.js";
import type { TypeCache } from "./type-cache.js";

/** A registered entity type: its latest schema ("" = documents are not validated). */
export interface TypeSpec {
  readonly entityType: string;
  readonly schemaVersion: bigint;
  readonly jsonSchema: string;
}

const idPrefix = registryIdPrefix;
const defaultLimit = 100;
const maxLimit = 1000;

/**
 * The type registry. Each type is an originator of the Event Store (`eskit.crudstore.type:<entity type>`) whose
 * events (`eskit.crudstore.EntityType.Registered`, then `.Updated`) record its schemas, so a type's history is kept
 * like a document's and every Crud Store process sees the same registry without a database of its own.
 */
export class TypeRegistry {
  /** `cache`: where validation finds types without a call to the Event Store; none = every write reads the registry. */
  constructor(
    private readonly eventStore: EventStorePort,
    private readonly cache?: TypeCache,
  ) {}

  async register(spec: TypeSpec, skipDuplicate: boolean, scope: CallScope): Promise<void> {
    checkSpec(spec);
    try {
      await this.append(spec, 1n, "Registered", scope);
    } catch (error) {
      if (!(error instanceof VersionTakenError)) throw error;
      if (!skipDuplicate)
        throw new AlreadyExistsError(`type ${spec.entityType} is already registered (UpdateType changes its schema)`);
    }
  }

  async update(spec: TypeSpec, scope: CallScope): Promise<void> {
    checkSpec(spec);
    const current = await this.read(spec.entityType, scope);
    if (spec.schemaVersion <= current.spec.schemaVersion) {
      throw new PreconditionError(
        `type ${spec.entityType} is at schema_version ${current.spec.schemaVersion}: an update needs a higher one, got ${spec.schemaVersion}`,
      );
    }
    try {
      await this.append(spec, current.version + 1n, "Updated", scope);
    } catch (error) {
      if (!(error instanceof VersionTakenError)) throw error;
      throw new ConcurrencyError(`type ${spec.entityType} was updated concurrently: read it again and retry`);
    }
  }

  async get(entityType: string, scope: CallScope): Promise<TypeSpec> {
    checkEntityType(entityType);
    return (await this.read(entityType, scope)).spec;
  }

  async list(
    limit: number,
    pageToken: string,
    scope: CallScope,
  ): Promise<{ specs: TypeSpec[]; nextPageToken: string }> {
    if (limit > maxLimit) throw new ValidationError(`limit is ${limit}: at most ${maxLimit}`);
    const afterId = decodePageToken("types", pageToken);
    const page = await this.eventStore.listOriginators(
      registryEntityType,
      afterId === "" ? "" : idPrefix + afterId,
      limit || defaultLimit,
      "",
      scope,
    );
    const ranges = page.originators.map((o) => ({ originatorId: o.id, fromVersion: 0n, toVersion: o.version }));
    const histories = ranges.length === 0 ? [] : await this.eventStore.batchGetEvents(ranges, scope);
    const specs = histories.map((slice, i) => fold(ranges[i]!.originatorId, slice.events).spec);
    const next = page.nextAfterId === "" ? "" : encodePageToken("types", page.nextAfterId.slice(idPrefix.length));
    return { specs, nextPageToken: next };
  }

  /**
   * Throws ValidationError listing every violation when `entityType` has a schema that `document` does not match.
   * Types that are not registered, or have no schema, accept any object.
   */
  async validate(entityType: string, document: JsonObject, scope: CallScope): Promise<void> {
    const load = () => this.find(entityType, scope);
    const spec = this.cache === undefined ? await load() : await this.cache.get(entityType, load);
    if (spec === undefined || spec.jsonSchema === "") return;
    const violations = compileJsonSchema(spec.jsonSchema).validate(document);
    if (violations.length > 0) {
      throw new SchemaViolationError(
        `payload does not match the schema of ${entityType} (schema_version ${spec.schemaVersion}): ${formatViolations(violations)}`,
        entityType,
        spec.schemaVersion,
        violations,
      );
    }
  }

  /** The latest spec of `entityType`, read from the Event Store; undefined when it is not registered. */
  private async find(entityType: string, scope: CallScope): Promise<TypeSpec | undefined> {
    const events = await this.eventStore.getEvents(idPrefix + entityType, 0n, 0n, scope);
    return events.length === 0 ? undefined : fold(idPrefix + entityType, events).spec;
  }

  private async read(entityType: string, scope: CallScope): Promise<{ spec: TypeSpec; version: bigint }> {
    const events = await this.eventStore.getEvents(idPrefix + entityType, 0n, 0n, scope);
    if (events.length === 0) throw new NotFoundError(`type ${entityType} is not registered`);
    return fold(idPrefix + entityType, events);
  }

  private async append(spec: TypeSpec, version: bigint, action: string, scope: CallScope): Promise<void> {
    const payload = JSON.stringify({
      entityType: spec.entityType,
      schemaVersion: String(spec.schemaVersion),
      jsonSchema: spec.jsonSchema,
    });
    const event = {
      originatorId: idPrefix + spec.entityType,
      version,
      eventType: `${registryEntityType}.${action}`,
      payload,
      metadata: { [sourceKey]: sourceValue },
    };
    try {
      await this.eventStore.append([event], scope);
    } finally {
      // Whatever came of it, this replica's next write reads the type again, even one whose read of the registry
      // overlapped the append (the log says the same to every replica, a few milliseconds later).
      this.cache?.invalidate(spec.entityType);
    }
  }
}

function checkSpec(spec: TypeSpec): void {
  checkEntityType(spec.entityType, "spec.entity_type");
  if (spec.jsonSchema !== "") compileJsonSchema(spec.jsonSchema);
}

/** The latest spec in a type's events (each event holds a whole spec). */
function fold(id: string, events: readonly StoredEvent[]): { spec: TypeSpec; version: bigint } {
  const last = events.at(-1);
  try {
    const parsed = JSON.parse(last?.payload ?? "") as { entityType: string; schemaVersion: string; jsonSchema: string };
    return {
      spec: {
        entityType: parsed.entityType,
        schemaVersion: BigInt(parsed.schemaVersion),
        jsonSchema: parsed.jsonSchema,
      },
      version: last?.version ?? 0n,
    };
  } catch (error) {
    throw new CorruptHistoryError(`the registry record "${id}" cannot be read: ${String(error)}`);
  }
}
