"""When to retry a failed call, and how long to wait first: the rules of the TypeScript client's
`transient-error.ts` and `backoff.ts`, so that consumers in every language behave alike."""
import random
import threading

import grpc

# Codes that say "this request will fail again however often you send it" (a bad selector or consumer id, a
# missing token or permission, an RPC the server lacks): retrying would hide a mistake behind a log line repeated
# forever, so a consumer stops with them. Every other code counts as transient, because a connection that drops
# shows up under many of them depending on the moment (UNAVAILABLE, CANCELLED, INTERNAL, UNKNOWN, ...).
PERMANENT_CODES = frozenset(
    {
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.ALREADY_EXISTS,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.OUT_OF_RANGE,
        grpc.StatusCode.UNIMPLEMENTED,
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.DATA_LOSS,
    }
)


def is_transient(error: BaseException) -> bool:
    """Whether a failed call may succeed when sent again later; anything that is not an RPC error is not."""
    if not isinstance(error, grpc.RpcError):
        return False
    code = error.code() if callable(getattr(error, "code", None)) else None
    return code not in PERMANENT_CODES


def backoff_delay(attempt: int, initial: float, maximum: float) -> float:
    """The wait before retry number `attempt` (0 for the first), in seconds: uniform between 0 and
    min(maximum, initial * 2^attempt) ("full jitter"), so that the consumers of a restarted Event Store do not all
    come back in one wave."""
    ceiling = min(maximum, initial * 2 ** min(max(attempt, 0), 52))
    return random.uniform(0, ceiling)


class Backoff:
    """Counts consecutive failures; `wait` sleeps the next delay unless `stop` is set first (then returns False)."""

    def __init__(self, initial: float, maximum: float, stop: threading.Event) -> None:
        self.initial, self.maximum, self._stop = initial, maximum, stop
        self.attempt = 0

    def reset(self) -> None:
        self.attempt = 0

    def next_delay(self) -> float:
        delay = backoff_delay(self.attempt, self.initial, self.maximum)
        self.attempt += 1
        return delay

    def sleep(self, delay: float) -> bool:
        return not self._stop.wait(delay)
