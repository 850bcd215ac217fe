import type { Event as StoredEvent } from "@eskit/client";
import { eventView, type PayloadView } from "./event-view.js";

const payloadKinds: Record<PayloadView["kind"], string> = {
  json: "JSON",
  text: "raw text, not JSON",
  empty: "empty: stands for {}",
};

/** The selected version in full: type, time, event id, metadata, and the payload pretty-printed when it is JSON. */
export function EventDetail(props: { event: StoredEvent | undefined }) {
  if (props.event === undefined) {
    return (
      <section className="panel" aria-label="Selected event">
        <p className="muted">Select a version to see its payload and metadata.</p>
      </section>
    );
  }
  const view = eventView(props.event);
  return (
    <section className="panel" aria-label="Selected event">
      <h2>Version {String(view.version)}</h2>
      <dl className="facts">
        <dt>event type</dt>
        <dd>{view.eventType}</dd>
        <dt>occurred on</dt>
        <dd>{view.occurredOn === "" ? "not recorded" : view.occurredOn}</dd>
        <dt>event id</dt>
        <dd>{view.eventId}</dd>
      </dl>
      <h2>Metadata</h2>
      {view.metadata.length === 0 ? (
        <p className="muted">none</p>
      ) : (
        <dl className="facts" aria-label="Metadata">
          {view.metadata.map(([key, value]) => [<dt key={`k${key}`}>{key}</dt>, <dd key={`v${key}`}>{value}</dd>])}
        </dl>
      )}
      <h2>
        Payload <span className="badge">{payloadKinds[view.payload.kind]}</span>
      </h2>
      <pre className="entity-payload" aria-label="Payload">
        {view.payload.text}
      </pre>
    </section>
  );
}
