import type { Event as StoredEvent } from "@eskit/client";

/**
 * Versions asked for per GetEvents: a page answers in one short call however long the history is, and "Load more"
 * asks for the next one.
 */
export const versionPageSize = 100n;

/**
 * The most versions the page holds and shows at once. An entity with a million events must not fill the tab's
 * memory; past the cap the page says so and offers to start a new window further on.
 */
export const shownVersionsCap = 1000;

const maxVersion = 0xffff_ffff_ffff_ffffn;

/** The versions of one originator the page holds: a contiguous run read page by page from `from`. */
export interface VersionWindow {
  readonly originatorId: string;
  /** The first version asked for. */
  readonly from: bigint;
  readonly events: readonly StoredEvent[];
  /** The version the next page starts at. */
  readonly next: bigint;
  /** The last page came back short: the latest version, as of that read, is held. */
  readonly reachedLatest: boolean;
}

/** Both bounds inclusive, as GetEvents takes them. */
export interface VersionRange {
  readonly fromVersion: bigint;
  readonly toVersion: bigint;
}

/** A window that holds nothing yet and starts at `from`. */
export function emptyWindow(originatorId: string, from: bigint): VersionWindow {
  return { originatorId, from, events: [], next: from, reachedLatest: false };
}

/** Whether the window holds as many versions as the page may show. */
export function isCapped(window: VersionWindow): boolean {
  return window.events.length >= shownVersionsCap;
}

/** The range the next page reads, never past the cap; undefined once the window is full. */
export function nextRange(window: VersionWindow): VersionRange | undefined {
  const room = BigInt(shownVersionsCap - window.events.length);
  if (room <= 0n) return undefined;
  const size = room < versionPageSize ? room : versionPageSize;
  const last = window.next + size - 1n;
  return { fromVersion: window.next, toVersion: last > maxVersion ? maxVersion : last };
}

/** The window with `page`, the answer to `range`, added at its end. */
export function withPage(window: VersionWindow, range: VersionRange, page: readonly StoredEvent[]): VersionWindow {
  const asked = range.toVersion - range.fromVersion + 1n;
  const lastVersion = page.at(-1)?.originator?.version;
  return {
    ...window,
    events: [...window.events, ...page],
    next: lastVersion === undefined ? window.next : lastVersion + 1n,
    reachedLatest: BigInt(page.length) < asked,
  };
}
