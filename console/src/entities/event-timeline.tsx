import type { Event as StoredEvent } from "@eskit/client";
import { useRef, type KeyboardEvent } from "react";
import { eventView } from "./event-view.js";

const focusMoves: Record<string, (at: number, count: number) => number> = {
  ArrowDown: (at, count) => Math.min(at + 1, count - 1),
  ArrowUp: (at) => Math.max(at - 1, 0),
  Home: () => 0,
  End: (_, count) => count - 1,
};

/**
 * An originator's versions, oldest first, one button per event (version, type, time, event id): Tab or the arrow
 * keys reach an entry, Enter or Space select it, as a click does. The page caps how many it holds, so every entry is
 * a real element and a screen reader can read the whole list.
 */
export function EventTimeline(props: {
  label: string;
  events: readonly StoredEvent[];
  selected: bigint | undefined;
  onSelect: (version: bigint) => void;
}) {
  const list = useRef<HTMLOListElement>(null);

  const onKeyDown = (event: KeyboardEvent<HTMLOListElement>) => {
    const move = focusMoves[event.key];
    if (move === undefined || list.current === null) return;
    const buttons = Array.from(list.current.querySelectorAll<HTMLButtonElement>("button.timeline-entry"));
    const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
    if (buttons.length === 0) return;
    event.preventDefault();
    buttons[at < 0 ? 0 : move(at, buttons.length)]?.focus();
  };

  return (
    <ol ref={list} className="timeline entity-timeline" aria-label={props.label} onKeyDown={onKeyDown}>
      {props.events.map((event) => {
        const view = eventView(event);
        const selected = view.version === props.selected;
        return (
          <li key={String(view.version)}>
            <button
              type="button"
              className="timeline-entry"
              aria-current={selected ? "true" : undefined}
              onClick={() => props.onSelect(view.version)}
            >
              <span className="timeline-version">Version {String(view.version)}</span>{" "}
              <span className="timeline-type">{view.eventType}</span>{" "}
              <time dateTime={view.occurredOn}>{view.occurredOn}</time>{" "}
              <code className="timeline-id">{view.eventId}</code>
            </button>
          </li>
        );
      })}
    </ol>
  );
}
