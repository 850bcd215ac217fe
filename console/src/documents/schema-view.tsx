import { useId } from "react";
import { prettyPayload } from "../ui/pretty-payload.js";
import type { TypeSchema } from "./crud-reads.js";

/** A type's schema version and its JSON Schema, pretty-printed; or why its documents are not checked. */
export function SchemaView(props: { entityType: string; schema: TypeSchema | undefined }) {
  const headingId = useId();
  const { schema } = props;
  return (
    <section aria-labelledby={headingId} className="schema-view">
      <h2 id={headingId}>Schema of {props.entityType}</h2>
      {schema === undefined ? (
        <p className="muted">This type is not registered: its documents may be any JSON object.</p>
      ) : (
        <>
          <dl className="facts">
            <dt>Schema version</dt>
            <dd>{schema.schemaVersion.toString()}</dd>
          </dl>
          {schema.jsonSchema === "" ? (
            <p className="muted">No JSON Schema: documents of this type may be any JSON object.</p>
          ) : (
            <pre className="json-block" tabIndex={0} aria-label={`JSON Schema of ${props.entityType}`}>
              {prettyPayload(schema.jsonSchema)}
            </pre>
          )}
        </>
      )}
    </section>
  );
}
