/**
 * Writes for the documents-by-field example's tests: Customer documents created, edited (an indexed field changed or
 * removed, a field set to null, which a merge patch cannot say), replaced and deleted through the real Crud Store,
 * and the reference the example must match: the live documents as a fresh scan of the Crud Store's List sees them.
 */
import type { Client } from "@connectrpc/connect";
import type { CrudStoreService } from "@eskit/client";
import fc from "fast-check";

export type CrudStore = Client<typeof CrudStoreService>;

/** The values of the indexed fields: few, so that queries find several documents. */
export const fieldValues = {
  email: ["ada@x.io", "bob@x.io", "cyd@x.io"],
  country: ["FR", "DE", "US"],
  plan: ["free", "pro", "team"],
} as const;
export type Field = keyof typeof fieldValues;
export const fields = Object.keys(fieldValues) as Field[];

/** A field's value: mostly one of its strings, sometimes null, a number or an object (no column value then). */
const valueOf = (field: Field) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...fieldValues[field]) },
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 99 }) },
    { weight: 1, arbitrary: fc.constant({ nested: fieldValues[field][0] }) },
  );

/**
 * A Customer document: the indexed fields may be absent. A name and an address are always there, so that a small
 * edit is stored as a merge patch (the Crud Store keeps a patch only when it is shorter than the document); a field
 * set to null, or a replacement, is stored as the whole document.
 */
export const customerDocument = fc.record(
  {
    email: valueOf("email"),
    country: valueOf("country"),
    plan: valueOf("plan"),
    name: fc.string({ minLength: 8, maxLength: 16 }),
    address: fc.record({ city: fc.constantFrom("Paris", "Berlin", "Austin"), zip: fc.string({ maxLength: 5 }) }),
    tags: fc.array(fc.constantFrom("vip", "new", "churn"), { maxLength: 3 }),
  },
  { requiredKeys: ["name", "address"] },
);
export type Document = Record<string, unknown>;

/** One step of a workload; `slot` picks one of a few documents, so that steps meet the same ones. */
export type Step =
  | { readonly kind: "create"; readonly slot: number; readonly document: Document }
  | { readonly kind: "set"; readonly slot: number; readonly field: string; readonly value: unknown }
  | { readonly kind: "remove"; readonly slot: number; readonly field: string }
  | { readonly kind: "replace"; readonly slot: number; readonly document: Document }
  | { readonly kind: "delete"; readonly slot: number };

/** Steps over `slots` documents; `set` and `remove` mostly hit an indexed field. */
export function step(slots: number): fc.Arbitrary<Step> {
  const slot = fc.integer({ min: 0, max: slots - 1 });
  const field = fc.constantFrom<string>(...fields, ...fields, "name", "address");
  return fc.oneof(
    { weight: 3, arbitrary: fc.record({ kind: fc.constant("create" as const), slot, document: customerDocument }) },
    {
      weight: 5,
      arbitrary: fc
        .record({ slot, field })
        .chain(({ slot, field }) =>
          (fields.includes(field as Field) ? valueOf(field as Field) : fc.string({ maxLength: 8 })).map(
            (value) => ({ kind: "set" as const, slot, field, value }) as Step,
          ),
        ),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("remove" as const), slot, field }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("replace" as const), slot, document: customerDocument }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("delete" as const), slot }) },
  );
}

/** A document as the example answers it and as List lists it. */
export interface Listed {
  readonly id: string;
  readonly version: bigint;
  readonly document: Document;
}

/**
 * Applies steps to the documents of one entity type through the Crud Store, one call at a time, as a user would:
 * updates send the whole new document with the version last read. A step that does not apply (creating a document
 * where one lives, editing where none does) is skipped; a create where one was deleted makes a document of a new id.
 */
export class CustomerWriter {
  /** Per slot: its document, or how many of its documents were deleted (a deleted id is never created again). */
  private readonly documents = new Map<number, { id: string; version: bigint; document: Document } | number>();
  /** Calls that wrote an event. */
  writes = 0;

  constructor(
    private readonly crud: CrudStore,
    readonly entityType: string,
    private readonly idPrefix: string,
  ) {}

  /** The id of the document in `slot` now, or of the next one created there. */
  idOf(slot: number): string {
    const current = this.documents.get(slot) ?? 0;
    return typeof current === "number" ? `${this.idPrefix}-${slot}.${current}` : current.id;
  }

  async apply(s: Step): Promise<void> {
    const current = this.documents.get(s.slot);
    const id = this.idOf(s.slot);
    const { entityType } = this;
    if (s.kind === "create") {
      if (typeof current === "object") return;
      await this.crud.create({ entityType, originator: { id }, payload: JSON.stringify(s.document) });
      this.documents.set(s.slot, { id, version: 1n, document: s.document });
      this.writes++;
      return;
    }
    if (typeof current !== "object") return;
    if (s.kind === "delete") {
      await this.crud.delete({ entityType, originator: { id, version: current.version } });
      this.documents.set(s.slot, Number(id.slice(id.lastIndexOf(".") + 1)) + 1);
      this.writes++;
      return;
    }
    const document = s.kind === "replace" ? s.document : { ...current.document };
    if (s.kind === "set") document[s.field] = s.value;
    if (s.kind === "remove") delete document[s.field];
    const answer = await this.crud.update({
      entityType,
      originator: { id, version: current.version },
      payload: JSON.stringify(document),
    });
    const version = answer.originator?.version ?? 0n;
    // An identical document writes nothing and keeps its version.
    if (version !== current.version) this.writes++;
    this.documents.set(s.slot, { id, version, document });
  }
}

/** Every live document of `entityType`, from a fresh scan of List (all pages, with payloads), in id order. */
export async function listAll(crud: CrudStore, entityType: string): Promise<Listed[]> {
  const listed: Listed[] = [];
  let pageToken = "";
  do {
    const page = await crud.list({ entityType, pageToken, limit: 1000 });
    for (const result of page.results) {
      listed.push({
        id: result.originator?.id ?? "",
        version: result.originator?.version ?? 0n,
        document: JSON.parse(result.payload) as Document,
      });
    }
    pageToken = page.nextPageToken;
  } while (pageToken !== "");
  return listed.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The queries the tests ask: none, each value of each field, every country and plan together, no match. */
export function queries(): Array<Partial<Record<Field, string>>> {
  const all: Array<Partial<Record<Field, string>>> = [{}];
  for (const field of fields) for (const value of fieldValues[field]) all.push({ [field]: value });
  for (const country of fieldValues.country) for (const plan of fieldValues.plan) all.push({ country, plan });
  all.push({ email: "ada@x.io", country: "FR", plan: "pro" }, { country: "nowhere" }, { plan: "99" });
  return all;
}

/** What a query must answer: the listed documents whose fields hold exactly these strings. */
export function matching(listed: readonly Listed[], query: Partial<Record<Field, string>>): Listed[] {
  return listed.filter((doc) =>
    Object.entries(query).every(([field, value]) => {
      const held = Object.hasOwn(doc.document, field) ? doc.document[field] : undefined;
      return typeof held === "string" && held === value;
    }),
  );
}
