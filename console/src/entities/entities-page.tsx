import { useEffect, useState, type FormEvent } from "react";
import { useLocation, useParams } from "wouter";
import { ErrorNotice } from "../ui/error-notice.js";
import { entityPath, originatorIdFromParam, parseFromVersion } from "./entity-query.js";
import { EventDetail } from "./event-detail.js";
import { EventTimeline } from "./event-timeline.js";
import { useEntityEvents } from "./use-entity-events.js";
import { isCapped } from "./version-window.js";
import { windowStatus } from "./window-status.js";
import "./entities.css";

/**
 * The Entities page (`#/entities/<originatorId>`): one originator's events as a timeline of versions, read a page at
 * a time, and the selected event in full. The address carries the originator id, so a link opens the same entity.
 */
export function EntitiesPage() {
  const params = useParams<{ originatorId?: string }>();
  const originatorId = originatorIdFromParam(params.originatorId);
  const [, navigate] = useLocation();
  const [draftId, setDraftId] = useState(originatorId ?? "");
  const [draftFrom, setDraftFrom] = useState("");
  const [problem, setProblem] = useState<string | undefined>(undefined);
  // Where reading starts for the originator it names; an originator reached by a link starts at version 1.
  const [start, setStart] = useState<{ originatorId: string | undefined; from: bigint; round: number }>({
    originatorId,
    from: 1n,
    round: 0,
  });
  const from = start.originatorId === originatorId ? start.from : 1n;
  const events = useEntityEvents(originatorId, from, start.round);
  const [selected, setSelected] = useState<bigint | undefined>(undefined);

  // The address can change under the page (a link from the Log, Back): the field and the selection follow it.
  useEffect(() => {
    setDraftId(originatorId ?? "");
    setSelected(undefined);
  }, [originatorId]);

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const parsed = parseFromVersion(draftFrom);
    if ("problem" in parsed) return setProblem(parsed.problem);
    setProblem(undefined);
    setSelected(undefined);
    setStart((s) => ({ originatorId: draftId, from: parsed.version, round: s.round + 1 }));
    if (draftId !== originatorId) navigate(entityPath(draftId));
  };

  const continueFrom = (version: bigint) => {
    setSelected(undefined);
    setDraftFrom(String(version));
    setStart((s) => ({ originatorId, from: version, round: s.round + 1 }));
  };

  const { window, loading, error } = events;
  const held = window?.originatorId === originatorId ? window : undefined;
  const selectedEvent = held?.events.find((e) => e.originator?.version === selected);
  return (
    <>
      <h1>Entities</h1>
      <form className="toolbar" onSubmit={onSubmit} aria-label="Open an entity">
        <label className="field entity-id-field">
          <span>Originator id</span>
          <input
            value={draftId}
            required
            onChange={(e) => setDraftId(e.target.value)}
            placeholder="e.g. acme-user-42"
          />
        </label>
        <label className="field">
          <span>From version</span>
          <input
            value={draftFrom}
            inputMode="numeric"
            placeholder="1"
            size={10}
            onChange={(e) => setDraftFrom(e.target.value)}
            aria-invalid={problem !== undefined}
            aria-describedby={problem === undefined ? undefined : "entity-from-problem"}
          />
          {problem !== undefined && (
            <span id="entity-from-problem" className="field-error">
              {problem}
            </span>
          )}
        </label>
        <button type="submit">Show events</button>
      </form>
      {originatorId === undefined ? (
        <p className="muted">Enter an originator id to see its events, oldest first.</p>
      ) : (
        <>
          <p className="status-line" role="status">
            {held === undefined ? "reading…" : windowStatus(held, loading)}
          </p>
          {error !== undefined && (
            <ErrorNotice
              error={error}
              title={held !== undefined && held.events.length > 0 ? "Could not read more versions" : "No events shown"}
            />
          )}
          {held !== undefined && held.events.length > 0 && (
            <div className="columns">
              <section className="panel" aria-label="Timeline">
                <h2>Versions of {originatorId}</h2>
                <EventTimeline
                  label={`Versions of ${originatorId}`}
                  events={held.events}
                  selected={selected}
                  onSelect={setSelected}
                />
                <div className="entity-more">
                  {isCapped(held) ? (
                    <button type="button" className="secondary" onClick={() => continueFrom(held.next)}>
                      Continue from version {String(held.next)}
                    </button>
                  ) : (
                    <button type="button" className="secondary" onClick={events.loadMore} disabled={loading}>
                      {held.reachedLatest ? "Check for newer versions" : "Load more"}
                    </button>
                  )}
                </div>
              </section>
              <EventDetail event={selectedEvent} />
            </div>
          )}
        </>
      )}
    </>
  );
}
