import type { Paging } from "./page-trail.js";

/**
 * Previous and Next for a paged list: Next is offered while the last answer had a next page token, Previous while
 * there is a page before. `label` names the navigation, e.g. "Pages of documents", as a page may hold two lists.
 */
export function Pager(props: { label: string; paging: Paging; nextPageToken: string | undefined; busy: boolean }) {
  const { paging, nextPageToken, busy } = props;
  return (
    <nav className="pager" aria-label={props.label}>
      <button type="button" className="secondary" disabled={busy || !paging.hasPrevious} onClick={paging.previous}>
        Previous
      </button>
      <span className="status-line">Page {paging.number}</span>
      <button
        type="button"
        className="secondary"
        disabled={busy || nextPageToken === undefined || nextPageToken === ""}
        onClick={() => nextPageToken !== undefined && paging.next(nextPageToken)}
      >
        Next
      </button>
    </nav>
  );
}
