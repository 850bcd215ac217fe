"""Saves a consumer's offset in the background as entries are handled, and a last time when it stops: the policy
of the TypeScript client's `offset-saver.ts` (every N entries or within an interval, never ahead of the handler)."""
import threading
import time
from typing import Callable, Optional

from retry import backoff_delay, is_transient


class OffsetNotSaved(Exception):
    """Stopping could not save the last handled offset in time: the next run delivers the entries after the last
    saved offset again."""


class OffsetSaver:
    """Saves run one at a time in their own thread, so an older offset never overwrites a newer one and a slow store
    slows saving, not consuming. A save that fails while running is no error yet: the store is usually down, the
    stream is reconnecting too, and the save is tried again with more entries or after a backoff. A permanent error
    (a read-only token: PERMISSION_DENIED) is reported through `on_permanent_failure`: the consumer must stop."""

    def __init__(
        self,
        save: Callable[[int, float], None],
        baseline: int,
        initial_saved: int,
        every_entries: int,
        interval: float,
        unary_timeout: float,
        initial_backoff: float,
        max_backoff: float,
        on_saved: Callable[[int], None],
        on_permanent_failure: Callable[[BaseException], None],
    ) -> None:
        self._save, self._every, self._interval, self._timeout = save, every_entries, interval, unary_timeout
        self._backoff = (initial_backoff, max_backoff)
        self._on_saved, self._on_permanent_failure = on_saved, on_permanent_failure
        self._cond = threading.Condition()
        self._handled_up_to = baseline
        self._confirmed = baseline
        self._saved = initial_saved
        self._unsaved = 0
        self._due: Optional[float] = None
        self._failures = 0
        self._last_error: Optional[BaseException] = None
        self._permanent_error: Optional[BaseException] = None
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="eskit-offset-saver", daemon=True)
        self._thread.start()

    @property
    def saved(self) -> int:
        """The last offset the store confirmed (or the offset the consumer resumed from)."""
        with self._cond:
            return self._saved

    def handled(self, offset: int, count: int) -> None:
        """Entries up to and including `offset` (`count` of them) were handled."""
        with self._cond:
            self._handled_up_to = offset
            self._unsaved += count
            if self._due is None:
                self._due = time.monotonic() + self._interval
            self._cond.notify()

    def _next_target(self) -> Optional[int]:
        """Waits until a save is due; None when closing."""
        with self._cond:
            while not self._closing and self._permanent_error is None:
                if self._handled_up_to > self._confirmed:
                    wait = (self._due - time.monotonic()) if self._due is not None else 0.0
                    if self._unsaved >= self._every or wait <= 0:
                        self._unsaved, self._due = 0, None
                        return self._handled_up_to
                    self._cond.wait(wait)
                else:
                    self._cond.wait()
            return None

    def _run(self) -> None:
        while (target := self._next_target()) is not None:
            try:
                self._save(target, self._timeout)
            except Exception as error:  # noqa: BLE001 - every failure is classified below
                if not is_transient(error):
                    with self._cond:
                        self._permanent_error = error
                    self._on_permanent_failure(error)
                    return
                with self._cond:
                    self._last_error = error
                    retry_in = max(self._interval, backoff_delay(self._failures, *self._backoff))
                    self._failures += 1
                    self._due = min(self._due if self._due is not None else float("inf"), time.monotonic() + retry_in)
                continue
            self._succeeded(target)

    def _succeeded(self, offset: int) -> None:
        with self._cond:
            self._confirmed = max(self._confirmed, offset)
            self._saved = self._confirmed
            self._failures, self._last_error = 0, None
        self._on_saved(offset)

    def close(self, timeout: float) -> int:
        """Stops saving in the background and saves the last handled offset, retrying transient failures for at
        most `timeout` seconds. Returns the saved offset; raises the permanent error, or OffsetNotSaved."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._closing = True
            self._cond.notify()
        self._thread.join(max(0.0, deadline - time.monotonic()))
        attempt = 0
        while True:
            with self._cond:
                if self._permanent_error is not None:
                    raise self._permanent_error
                if self._handled_up_to <= self._confirmed:
                    return self._saved
                target, last_error = self._handled_up_to, self._last_error
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._thread.is_alive():
                reason = "no answer" if last_error is None else _describe(last_error)
                raise OffsetNotSaved(
                    f"could not save offset {target} within {timeout:g} s ({reason}): "
                    "entries after the last saved offset will be delivered again"
                )
            try:
                self._save(target, min(self._timeout, remaining))
                self._succeeded(target)
            except Exception as error:  # noqa: BLE001
                if not is_transient(error):
                    raise
                with self._cond:
                    self._last_error = error
                time.sleep(min(backoff_delay(attempt, *self._backoff), max(0.0, deadline - time.monotonic())))
                attempt += 1


def _describe(error: BaseException) -> str:
    code = getattr(error, "code", None)
    details = getattr(error, "details", None)
    if callable(code) and callable(details):
        return f"{code().name}: {details()}"
    return repr(error)
