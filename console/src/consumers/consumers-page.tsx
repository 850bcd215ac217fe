import { useMemo, useState } from "react";
import { useSearch } from "wouter";
import { ErrorNotice } from "../ui/error-notice.js";
import { consumerRows, type ConsumerState } from "./consumer-lag.js";
import { timeAgo } from "./relative-time.js";
import { stalledAfterParameter, stalledThresholdOf } from "./stalled-threshold.js";
import { refreshEveryMs, useConsumerReport } from "./use-consumer-report.js";
import "./consumers.css";

const number = new Intl.NumberFormat("en");

/** What the "projection" tag means, on hover: where its offset comes from, and why a failed one shows as stalled. */
const projectionHint =
  "A project() read model: its offset is the position it committed in its own database, reported here as it moves. " +
  "A projection that failed, stopped or cannot reach its database reports no more, so it shows as stalled once the " +
  "log moves on; its error is in its logs, its status() and the last_error of its eskit_projections row.";

const badgeTone: Record<ConsumerState, string> = {
  "up to date": "ok",
  "catching up": "",
  stalled: "danger",
};

/**
 * The Consumers page: every consumer with its offset, its lag behind the head, its last save, and a "stalled" badge
 * (words, not colour alone) for one that is behind and has not saved for longer than the threshold; the furthest
 * behind first, refreshed every few seconds unless paused. Projections (`project()`, which reports its position as
 * the consumer `projection:<name>`) are listed among them with a "projection" tag.
 */
export function ConsumersPage() {
  const threshold = stalledThresholdOf(useSearch());
  const [paused, setPaused] = useState(false);
  const { report, error, refresh } = useConsumerReport(paused);
  const rows = useMemo(
    () =>
      report === undefined ? [] : consumerRows(report.consumers, report.head, report.at, threshold.seconds * 1000),
    [report, threshold.seconds],
  );
  const stalled = rows.filter((row) => row.state === "stalled").length;
  const projections = rows.filter((row) => row.projection !== undefined).length;
  const seconds = refreshEveryMs / 1000;

  return (
    <>
      <h1>Consumers</h1>
      <div className="toolbar">
        <label className="consumers-toggle">
          <input type="checkbox" checked={!paused} onChange={(e) => setPaused(!e.target.checked)} />
          Refresh every {seconds} s
        </label>
        <button type="button" className="secondary" onClick={refresh}>
          Refresh now
        </button>
      </div>
      <p className="muted" id="stalled-rule">
        Stalled: behind the head and no offset saved for more than {threshold.seconds} s
        {threshold.fromAddress ? ` (set by ?${stalledAfterParameter}= in the address; the default is 60 s)` : ""}.
      </p>
      <p className="status-line" role="status">
        {report === undefined
          ? "asking the Event Store…"
          : `head ${report.head} · ${number.format(rows.length)} consumers${projections > 0 ? ` (${number.format(projections)} projection${projections === 1 ? "" : "s"})` : ""} · ${number.format(stalled)} stalled · as of ${new Date(report.at).toISOString()}${paused ? " · refreshing paused" : ""}`}
      </p>
      {error !== undefined && (
        <ErrorNotice
          error={error}
          title={report === undefined ? "Could not list the consumers" : "The last refresh failed; older answer shown"}
        />
      )}
      {report !== undefined && rows.length === 0 && <p>No consumer has saved an offset yet.</p>}
      {rows.length > 0 && (
        <table className="data consumers-table" aria-label="Consumers" aria-describedby="stalled-rule">
          <thead>
            <tr>
              <th scope="col">Consumer</th>
              <th scope="col">Offset</th>
              <th scope="col">Lag</th>
              <th scope="col">Last update</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.id}>
                <th scope="row">
                  <span className="mono">{row.id}</span>
                  {row.projection !== undefined && (
                    <>
                      {" "}
                      <span className="badge consumer-kind" title={projectionHint}>
                        projection
                      </span>
                    </>
                  )}
                </th>
                <td className="number">{number.format(row.offset)}</td>
                <td className="number">{number.format(row.lag)}</td>
                <td>
                  {row.updatedAt === undefined ? (
                    "unknown"
                  ) : (
                    <>
                      <time dateTime={row.updatedAt.toISOString()}>{row.updatedAt.toISOString()}</time>{" "}
                      <span className="muted">({timeAgo(row.updatedAt, report!.at)})</span>
                    </>
                  )}
                </td>
                <td>
                  <span className={`badge ${badgeTone[row.state]}`}>{row.state}</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
