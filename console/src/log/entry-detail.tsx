import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { AppLogEntry } from "@eskit/client";
import { Link } from "wouter";
import { prettyPayload } from "../ui/pretty-payload.js";

/** One log entry's event in full: ids, type, originator (a link to its entity page), time, metadata and payload. */
export function EntryDetail(props: { entry: AppLogEntry | undefined }) {
  const { entry } = props;
  if (entry === undefined) {
    return (
      <section className="panel" aria-label="Selected entry">
        <p className="muted">Select an entry to see its event.</p>
      </section>
    );
  }
  const event = entry.event;
  const metadata = Object.entries(event?.metadata ?? {});
  const originatorId = event?.originator?.id ?? "";
  return (
    <section className="panel" aria-label="Selected entry">
      <h2>Entry {String(entry.id)}</h2>
      <dl className="facts">
        <dt>event type</dt>
        <dd>{event?.eventType}</dd>
        <dt>originator</dt>
        <dd>
          <Link href={`/entities/${encodeURIComponent(originatorId)}`}>{originatorId}</Link>
        </dd>
        <dt>version</dt>
        <dd>{String(event?.originator?.version ?? 0n)}</dd>
        <dt>occurred on</dt>
        <dd>{event?.occurredOn === undefined ? "" : timestampDate(event.occurredOn).toISOString()}</dd>
        <dt>event id</dt>
        <dd>{event?.eventId}</dd>
      </dl>
      <h2>Metadata</h2>
      {metadata.length === 0 ? (
        <p className="muted">none</p>
      ) : (
        <dl className="facts">
          {metadata.map(([key, value]) => [<dt key={`k${key}`}>{key}</dt>, <dd key={`v${key}`}>{value}</dd>])}
        </dl>
      )}
      <h2>Payload</h2>
      <pre aria-label="Payload">{prettyPayload(event?.payload ?? "")}</pre>
    </section>
  );
}
