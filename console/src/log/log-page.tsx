import type { AppLogEntry } from "@eskit/client";
import { useEffect, useRef, useState, type FormEvent } from "react";
import { useConnection } from "../connection/connection-context.js";
import { ErrorNotice } from "../ui/error-notice.js";
import { EntryDetail } from "./entry-detail.js";
import { LogList } from "./log-list.js";
import { parseLogId, type LogStart } from "./log-start.js";
import { logBufferCapacity, useLogTail, type TailStatus } from "./use-log-tail.js";

const number = new Intl.NumberFormat("en");

const statusText: Record<TailStatus, string> = {
  idle: "not following",
  following: "following live",
  reconnecting: "connection lost, reconnecting",
  paused: "paused",
  failed: "stopped",
};

/**
 * The Log page: a live tail of the Application Log with a selector and a start (the beginning, the end, or a log id),
 * pause and resume, how many entries a second arrive, and the selected entry's event in full.
 */
export function LogPage() {
  const { clients } = useConnection();
  const tail = useLogTail();
  const [selector, setSelector] = useState("");
  const [startKind, setStartKind] = useState<LogStart["kind"]>("end");
  const [startId, setStartId] = useState("");
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [selected, setSelected] = useState<AppLogEntry | undefined>(undefined);

  // What was last started: the page opens following new entries, and starts that again with new settings (another
  // URL or token means another log, or other rights).
  const started = useRef<{ from: LogStart; selector: string }>({ from: { kind: "end" }, selector: "" });
  const { start, pause } = tail;
  useEffect(() => {
    start(started.current.from, started.current.selector);
    return pause;
  }, [clients, start, pause]);

  const onStart = (event: FormEvent) => {
    event.preventDefault();
    let from: LogStart = { kind: startKind === "id" ? "beginning" : startKind };
    if (startKind === "id") {
      const parsed = parseLogId(startId);
      if ("problem" in parsed) return setProblem(parsed.problem);
      from = { kind: "id", id: parsed.id };
    }
    setProblem(undefined);
    setSelected(undefined);
    started.current = { from, selector: selector.trim() };
    tail.start(from, selector.trim());
  };

  const running = tail.status === "following" || tail.status === "reconnecting";
  const { entries } = tail;
  return (
    <>
      <h1>Application Log</h1>
      <form className="toolbar" onSubmit={onStart} aria-label="Tail the log">
        <label className="field">
          <span>Selector</span>
          <input
            value={selector}
            onChange={(e) => setSelector(e.target.value)}
            placeholder="* or User.* or *.Deleted"
          />
        </label>
        <label className="field">
          <span>Start at</span>
          <select value={startKind} onChange={(e) => setStartKind(e.target.value as LogStart["kind"])}>
            <option value="end">the end (new entries only)</option>
            <option value="beginning">the beginning</option>
            <option value="id">a log id</option>
          </select>
        </label>
        {startKind === "id" && (
          <div className="field">
            <label htmlFor="log-start-id">Log id</label>
            <input
              id="log-start-id"
              value={startId}
              inputMode="numeric"
              onChange={(e) => setStartId(e.target.value)}
              aria-invalid={problem !== undefined}
              aria-describedby={problem === undefined ? undefined : "log-start-problem"}
            />
            {problem !== undefined && (
              <span id="log-start-problem" className="field-error">
                {problem}
              </span>
            )}
          </div>
        )}
        <button type="submit">{tail.status === "idle" ? "Start" : "Restart"}</button>
        {running && (
          <button type="button" className="secondary" onClick={tail.pause}>
            Pause
          </button>
        )}
        {(tail.status === "paused" || (tail.status === "failed" && entries.size > 0)) && (
          <button type="button" className="secondary" onClick={tail.resume}>
            Resume
          </button>
        )}
      </form>
      <p className="status-line" role="status">
        {statusText[tail.status]} · <span data-testid="log-rate">{number.format(Math.round(tail.rate))}</span> entries/s
        · {number.format(entries.size)} held (at most {number.format(logBufferCapacity)}
        {entries.dropped > 0 ? `; ${number.format(entries.dropped)} older ones let go` : ""})
        {entries.size > 0 ? ` · last id ${String(entries.last()!.id)}` : ""}
      </p>
      {tail.error !== undefined && (
        <ErrorNotice
          error={tail.error}
          title={tail.status === "reconnecting" ? "Lost the log; trying again every second" : "The log stopped"}
        />
      )}
      <div className="log-layout">
        <LogList entries={entries} revision={tail.revision} selected={selected} onSelect={setSelected} />
        <EntryDetail entry={selected} />
      </div>
    </>
  );
}
