import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";

/**
 * Answers every call `unavailable` until `ready()` (the database reached and migrated at start-up), so clients retry
 * rather than hang while start-up waits for the database; the health service (`healthService`, named by its type) is
 * let through, since it reports the same thing as NOT_SERVING to probes.
 */
export function untilReady(ready: () => boolean, healthService: string): Interceptor {
  return (next) => async (req) => {
    if (ready() || req.service.typeName === healthService) return next(req);
    throw new ConnectError(
      "the event store is starting: its database is not reachable yet; retry later",
      Code.Unavailable,
    );
  };
}
