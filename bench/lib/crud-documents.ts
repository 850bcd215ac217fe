/** The documents the Crud Store benchmark writes. */
export type Doc = Record<string, string | number | boolean | string[]>;

/** A customer record of about 200 bytes of JSON, different for each `n`. */
export function smallDocument(n: number): Doc {
  const id = n.toString().padStart(8, "0");
  return {
    name: `Customer ${id}`,
    email: `customer.${id}@example.com`,
    age: 20 + (n % 60),
    city: "Rotterdam",
    country: "NL",
    tags: ["bench", n % 2 === 0 ? "even" : "odd"],
    active: n % 3 !== 0,
    balance: (n % 10_007) + 0.25,
    note: "created by the crud store benchmark",
  };
}

export const wideFields = 20;

/** A document of `wideFields` fields (about 400 bytes), the start of the Get cells' documents. */
export function wideDocument(): Doc {
  const doc: Doc = {};
  for (let f = 0; f < wideFields; f++) doc[fieldName(f)] = f % 2 === 0 ? `value ${f} of the wide document` : f * 1000;
  return doc;
}

/** The document after update `i` (1, 2, ...): one field changed to a value it never had, so no update is a no-op. */
export function updated(doc: Doc, i: number): Doc {
  const f = i % wideFields;
  return { ...doc, [fieldName(f)]: f % 2 === 0 ? `value ${f} at update ${i}` : f * 1000 + i };
}

function fieldName(f: number): string {
  return `field${f.toString().padStart(2, "0")}`;
}
