import { Route, Switch } from "wouter";
import { decodeSegment } from "./document-paths.js";
import { DocumentPage } from "./document-page.js";
import { TypePage } from "./type-page.js";
import { TypesList } from "./types-list.js";
import "./documents.css";

/**
 * The Documents page (`#/documents/…`): the registered types and their schemas; a type's documents, paged, and a
 * form to create one; a document at any version, its history and the changes between two versions, its update and
 * deletion. Paths are relative to `/documents` (the app nests this page there); each view is keyed by what it shows,
 * so that moving to another type or document starts its state afresh.
 */
export function DocumentsPage() {
  return (
    <div className="documents">
      <Switch>
        <Route path="/">
          <TypesList />
        </Route>
        <Route path="/:type">
          {(params) => {
            const entityType = decodeSegment(params.type);
            return <TypePage key={entityType} entityType={entityType} />;
          }}
        </Route>
        <Route path="/:type/:id">
          {(params) => {
            const [entityType, id] = [decodeSegment(params.type), decodeSegment(params.id)];
            return <DocumentPage key={`${entityType}\n${id}`} entityType={entityType} id={id} />;
          }}
        </Route>
        <Route>
          <h1>Documents</h1>
          <p role="alert">
            No such view: documents live at #/documents, #/documents/&lt;type&gt; and
            #/documents/&lt;type&gt;/&lt;id&gt;.
          </p>
        </Route>
      </Switch>
    </div>
  );
}
