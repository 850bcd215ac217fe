import { isCapped, shownVersionsCap, versionPageSize, type VersionWindow } from "./version-window.js";

const number = new Intl.NumberFormat("en");

/** The page's status line: which versions are shown, and why no more are (the latest reached, or the cap). */
export function windowStatus(window: VersionWindow, loading: boolean): string {
  const { events } = window;
  const first = events[0]?.originator?.version;
  const last = events.at(-1)?.originator?.version;
  const shown =
    first === undefined || last === undefined
      ? "no versions shown"
      : `versions ${first}–${last} shown (${number.format(events.length)})`;
  const limits = `read ${versionPageSize} at a time, at most ${number.format(shownVersionsCap)} shown at once`;
  const end = loading
    ? "reading…"
    : isCapped(window)
      ? `the cap is reached: continue from version ${window.next} to see later ones`
      : window.reachedLatest && events.length > 0
        ? "the latest version is shown"
        : "";
  return [shown, limits, end].filter((part) => part !== "").join(" · ");
}
