import { useCallback, useState } from "react";

/**
 * The page tokens of the pages seen so far, first page first. The services page forward only (a token names where
 * the next page starts), so going back means asking again with a token seen before: the trail keeps the tokens (a
 * few bytes each), never the pages, so that no more than one page is ever held.
 */
export type PageTrail = readonly string[];

/** The trail at the first page, whose token is `""`. */
export const firstPage: PageTrail = [""];

/** The token of the page shown now. */
export const currentToken = (trail: PageTrail): string => trail[trail.length - 1] ?? "";

/** The trail one page further, given the page's `nextPageToken` (`""` at the end: no further page). */
export const nextPage = (trail: PageTrail, nextPageToken: string): PageTrail =>
  nextPageToken === "" ? trail : [...trail, nextPageToken];

/** The trail one page back (the first page stays the first). */
export const previousPage = (trail: PageTrail): PageTrail => (trail.length > 1 ? trail.slice(0, -1) : trail);

/** Paging state for a list view: the token to ask with, the page number (from 1), and the moves. */
export interface Paging {
  readonly token: string;
  readonly number: number;
  readonly hasPrevious: boolean;
  next(nextPageToken: string): void;
  previous(): void;
}

/** A {@link PageTrail} kept in React state; a new `key` (another type, another document) starts again at page 1. */
export function usePaging(key: string): Paging {
  const [state, setState] = useState<{ key: string; trail: PageTrail }>({ key, trail: firstPage });
  const trail = state.key === key ? state.trail : firstPage;
  const next = useCallback(
    (token: string) => setState((s) => ({ key, trail: nextPage(s.key === key ? s.trail : firstPage, token) })),
    [key],
  );
  const previous = useCallback(
    () => setState((s) => ({ key, trail: previousPage(s.key === key ? s.trail : firstPage) })),
    [key],
  );
  return { token: currentToken(trail), number: trail.length, hasPrevious: trail.length > 1, next, previous };
}
