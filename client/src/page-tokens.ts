import { Code, ConnectError } from "@connectrpc/connect";

/** One page of a token-paged RPC (List, History, ListTypes), reduced to what paging needs. */
export interface TokenPage<T> {
  items: readonly T[];
  /** Empty at the end. */
  nextPageToken: string;
}

/**
 * Yields the items of every page, requesting the next one only when the caller has consumed the previous, so a
 * loop that breaks early costs no further calls. A server that hands back the token it was given would make
 * this loop forever; that is reported as `internal` instead.
 */
export async function* followPageTokens<T>(
  fetchPage: (pageToken: string) => Promise<TokenPage<T>>,
  firstPageToken = "",
): AsyncGenerator<T, void, undefined> {
  let pageToken = firstPageToken;
  for (;;) {
    const page = await fetchPage(pageToken);
    yield* page.items;
    if (page.nextPageToken === "") {
      return;
    }
    if (page.nextPageToken === pageToken) {
      throw new ConnectError(`the server returned page token ${JSON.stringify(pageToken)} again`, Code.Internal);
    }
    pageToken = page.nextPageToken;
  }
}

const maxUint32 = 2 ** 32 - 1;

/**
 * Checks a page size before it reaches a uint32 field, where a negative or fractional number would fail with
 * a plain error deep in serialisation. Absent = 0 = the server's default; the server enforces its maximum.
 */
export function limitOf(limit: number | undefined): number {
  if (limit === undefined) {
    return 0;
  }
  if (!Number.isInteger(limit) || limit < 0 || limit > maxUint32) {
    throw new ConnectError(`limit must be a non-negative integer, got ${limit}`, Code.InvalidArgument);
  }
  return limit;
}
