import type { AppLogEntry } from "@eskit/client";
import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useRef, type KeyboardEvent } from "react";
import type { LogBuffer } from "./log-buffer.js";

const rowHeight = 28;
/** How close to the bottom (px) counts as "at the end": there the list keeps scrolling to the newest entry. */
const followSlack = rowHeight * 2;

/**
 * Where the entry with log id `id` is held, or -1: a binary search, since the ids held increase but have gaps (a
 * selector skips entries).
 */
export function indexOfId(entries: LogBuffer<AppLogEntry>, id: bigint): number {
  let low = 0;
  let high = entries.size - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const found = entries.at(middle)!.id;
    if (found === id) return middle;
    if (found < id) low = middle + 1;
    else high = middle - 1;
  }
  return -1;
}

/**
 * The entries held, oldest at the top, as a listbox whose rows are virtual: only the visible ones (and a few more)
 * exist in the page, so 10,000 rows cost what 40 do. While scrolled to the end it stays at the end as entries arrive;
 * scrolled up, it stays put. Arrow keys, Home and End move the selection.
 */
export function LogList(props: {
  entries: LogBuffer<AppLogEntry>;
  revision: number;
  selected: AppLogEntry | undefined;
  onSelect: (entry: AppLogEntry) => void;
}) {
  const { entries, selected, onSelect } = props;
  const scroller = useRef<HTMLDivElement>(null);
  const atEnd = useRef(true);
  const count = entries.size;
  const virtualizer = useVirtualizer({
    count,
    getScrollElement: () => scroller.current,
    estimateSize: () => rowHeight,
    overscan: 10,
  });

  useEffect(() => {
    if (atEnd.current && count > 0) virtualizer.scrollToIndex(count - 1, { align: "end" });
  }, [props.revision, count, virtualizer]);

  const selectedIndex = selected === undefined ? -1 : indexOfId(entries, selected.id);

  const onKeyDown = (event: KeyboardEvent) => {
    const moves: Record<string, number> = {
      ArrowDown: selectedIndex < 0 ? count - 1 : selectedIndex + 1,
      ArrowUp: selectedIndex < 0 ? count - 1 : selectedIndex - 1,
      Home: 0,
      End: count - 1,
    };
    const target = moves[event.key];
    if (target === undefined) return;
    event.preventDefault();
    const entry = entries.at(Math.min(Math.max(target, 0), count - 1));
    if (entry === undefined) return;
    atEnd.current = event.key === "End";
    onSelect(entry);
    virtualizer.scrollToIndex(indexOfId(entries, entry.id), { align: "auto" });
  };

  return (
    <div
      ref={scroller}
      className="log-scroller"
      role="listbox"
      aria-label="Log entries"
      tabIndex={0}
      aria-activedescendant={selectedIndex >= 0 ? `log-entry-${selected!.id}` : undefined}
      onKeyDown={onKeyDown}
      onScroll={(event) => {
        const el = event.currentTarget;
        atEnd.current = el.scrollHeight - el.scrollTop - el.clientHeight <= followSlack;
      }}
    >
      <div style={{ height: virtualizer.getTotalSize(), position: "relative" }}>
        {virtualizer.getVirtualItems().map((row) => {
          const entry = entries.at(row.index);
          if (entry === undefined) return null;
          const event = entry.event;
          return (
            <div
              key={String(entry.id)}
              id={`log-entry-${entry.id}`}
              role="option"
              aria-selected={entry === selected}
              className="log-row"
              style={{ transform: `translateY(${row.start}px)` }}
              onClick={() => onSelect(entry)}
            >
              <span>{String(entry.id)}</span>
              <span>{event?.eventType}</span>
              <span>{event?.originator?.id}</span>
              <span>v{String(event?.originator?.version ?? 0n)}</span>
            </div>
          );
        })}
      </div>
    </div>
  );
}
