"""A consumer of the ESKIT Application Log over gRPC that keeps its offset in the Event Store, as the TypeScript
client's `createLogConsumer` does (docs/consumers.md), with the same guarantees:

- **Offset** = the id of the last entry handled, kept through ConsumerService. A consumer resumes at offset + 1
  (LogsPoll's from_id is inclusive) and saves its offset after its handler succeeded: every `save_every_entries`
  entries or within `save_interval` seconds, and when it stops.
- **At-least-once**: no entry is ever skipped. While the consumer runs, an entry that was handled is not delivered
  again, across reconnections too; a process that dies loses only the offset it had not saved yet, so the next run
  delivers those entries again: make handlers idempotent (store the entry id with your writes).
- **Reconnection**: a stream that fails with a transient error (UNAVAILABLE when the Event Store restarts, ...),
  ends, or brings no message (not even the Event Store's 15 s heartbeat) for `heartbeat_timeout` seconds is reopened
  at the last handled id + 1 after an exponential backoff with full jitter, reset by every message received. A
  permanent error (INVALID_ARGUMENT for a bad selector, UNAUTHENTICATED, PERMISSION_DENIED, ...) stops the consumer.
- **Stopping**: `stop()` cancels the stream, lets a running handler finish, saves the offset, then `run()` returns.

The stubs made by generate.py must be importable (their folder on sys.path) before this module is imported."""
import threading
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence, Union

import grpc

from eskit.eventstore.v1 import consumer_pb2, consumer_pb2_grpc, event_pb2, event_store_pb2, event_store_pb2_grpc
from offset_saver import OffsetSaver
from retry import Backoff, is_transient

AppLogEntry = event_pb2.AppLogEntry
EntryHandler = Callable[[AppLogEntry], object]
BatchHandler = Callable[[List[AppLogEntry]], object]
# Called before each wait to reconnect (or to retry a start-up call): the error (or a reason), the delay, the attempt.
ReconnectListener = Callable[[Union[BaseException, str], float, int], None]

STARTS = ("saved", "beginning", "end")
MAX_CONSUMER_ID_LENGTH = 255


@dataclass(frozen=True)
class Summary:
    """How a stopped consumer ended: its saved offset (the next run resumes after it) and the entries it handled."""

    offset: int
    handled: int


class Consumer:
    """Follows the Application Log from where `consumer_id` left off and calls `handler` for each entry (or, with
    `batches=True`, for the entries of each LogsPoll message), one call at a time, in log order.

    `target` is "host:port" (the Event Store's one port serves gRPC); `token` is sent as `Authorization: Bearer`
    (a full token: saving the offset is a write). Durations are in seconds."""

    def __init__(
        self,
        target: str,
        consumer_id: str,
        handler: Union[EntryHandler, BatchHandler],
        *,
        selector: str = "",
        pipeline_id: str = "",
        start: str = "saved",
        batches: bool = False,
        token: Optional[str] = None,
        save_every_entries: int = 100,
        save_interval: float = 1.0,
        handler_retries: int = 0,
        initial_backoff: float = 0.1,
        max_backoff: float = 10.0,
        heartbeat_timeout: float = 45.0,
        keepalive_time: float = 15.0,
        keepalive_timeout: float = 10.0,
        unary_timeout: float = 10.0,
        final_save_timeout: float = 5.0,
        on_reconnect: Optional[ReconnectListener] = None,
        on_offset_saved: Optional[Callable[[int], None]] = None,
        on_started: Optional[Callable[[int], None]] = None,
    ) -> None:
        if not 1 <= len(consumer_id) <= MAX_CONSUMER_ID_LENGTH or "\0" in consumer_id:
            raise ValueError(f"consumer_id must be 1-{MAX_CONSUMER_ID_LENGTH} characters without NUL")
        if start not in STARTS:
            raise ValueError(f"start must be one of {', '.join(STARTS)}, not {start!r}")
        if save_every_entries < 1 or handler_retries < 0 or min(save_interval, heartbeat_timeout) < 0:
            raise ValueError("save_every_entries must be >= 1; retries, intervals and timeouts >= 0")
        if not 0 <= initial_backoff <= max_backoff or min(unary_timeout, keepalive_time, keepalive_timeout) <= 0:
            raise ValueError("need 0 <= initial_backoff <= max_backoff, and timeouts and keepalive_time > 0")
        self.consumer_id, self.selector, self.pipeline_id, self.start = consumer_id, selector, pipeline_id, start
        self._handler, self._batches = handler, batches
        self._metadata = (("authorization", f"Bearer {token}"),) if token else ()
        self._save_every, self._save_interval = save_every_entries, save_interval
        self._handler_retries = handler_retries
        self._backoff_range = (initial_backoff, max_backoff)
        self._heartbeat_timeout, self._unary_timeout = heartbeat_timeout, unary_timeout
        self._final_save_timeout = final_save_timeout
        self._on_reconnect = on_reconnect or (lambda error, delay, attempt: None)
        self._on_offset_saved = on_offset_saved or (lambda offset: None)
        self._on_started = on_started or (lambda after: None)
        options = _channel_options(initial_backoff, max_backoff, keepalive_time, keepalive_timeout)
        self._channel = grpc.insecure_channel(target, options=options)
        self._event_store = event_store_pb2_grpc.EventStoreServiceStub(self._channel)
        self._consumers = consumer_pb2_grpc.ConsumerServiceStub(self._channel)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._call: Optional[grpc.Future] = None
        self._failure: Optional[BaseException] = None

    def stop(self) -> None:
        """Asks `run()` to stop: the stream is cancelled, a running handler finishes, the offset is saved. Safe from
        any thread, but not from a signal handler (see run_until_signalled)."""
        self._stop.set()
        with self._lock:
            call = self._call
        if call is not None:
            call.cancel()

    def _fail(self, error: BaseException) -> None:
        with self._lock:
            if self._failure is None:
                self._failure = error
        self.stop()

    def run(self) -> Summary:
        """Consumes until `stop()`; returns once the final offset is saved. Raises the handler's error (after
        `handler_retries` retries, having saved the offset of the last entry that succeeded), a permanent RPC error,
        or OffsetNotSaved when the final save failed for `final_save_timeout` seconds."""
        try:
            start = self._start_position()
            if start is None:
                self._raise_failure()
                return Summary(0, 0)
            after, saved = start
            self._on_started(after)
            saver = OffsetSaver(
                save=self._save_offset,
                baseline=after,
                initial_saved=saved,
                every_entries=self._save_every,
                interval=self._save_interval,
                unary_timeout=self._unary_timeout,
                initial_backoff=self._backoff_range[0],
                max_backoff=self._backoff_range[1],
                on_saved=self._on_offset_saved,
                on_permanent_failure=self._fail,
            )
            handled = self._follow(after, saver)
            if self._failure is not None:
                # Best effort: the failure is what the caller must hear about, not a save that could not follow it.
                try:
                    saver.close(self._final_save_timeout)
                except Exception:  # noqa: BLE001
                    pass
                self._raise_failure()
            return Summary(saver.close(self._final_save_timeout), handled)
        finally:
            self._channel.close()

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    def _start_position(self) -> Optional[tuple]:
        """(after, saved): the consumer streams from after + 1. Start-up calls are retried like a reconnection."""
        backoff = Backoff(*self._backoff_range, self._stop)
        while not self._stop.is_set():
            try:
                if self.start == "beginning":
                    return 0, 0
                if self.start == "end":
                    return self._unary(self._event_store.GetHead, event_store_pb2.GetHeadRequest()).head_id, 0
                offset = self._saved_offset()
                return offset, offset
            except grpc.FutureCancelledError:
                return None
            except grpc.RpcError as error:
                if self._stop.is_set():
                    return None
                if not is_transient(error):
                    raise
                delay = backoff.next_delay()
                self._on_reconnect(error, delay, backoff.attempt)
                backoff.sleep(delay)
        return None

    def _saved_offset(self) -> int:
        """The saved offset; 0 for a consumer that never saved one (NOT_FOUND is its normal first state)."""
        try:
            request = consumer_pb2.GetOffsetRequest(consumer_id=self.consumer_id)
            return self._unary(self._consumers.GetOffset, request).offset
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                return 0
            raise

    def _unary(self, method, request):
        """A start-up call that stop() cancels (then grpc.FutureCancelledError), as it cancels the stream."""
        future = method.future(request, timeout=self._unary_timeout, metadata=self._metadata)
        with self._lock:
            self._call = future
        try:
            if self._stop.is_set():
                future.cancel()
            return future.result()
        finally:
            with self._lock:
                self._call = None

    def _save_offset(self, offset: int, timeout: float) -> None:
        request = consumer_pb2.SaveOffsetRequest(consumer_id=self.consumer_id, offset=offset)
        self._consumers.SaveOffset(request, timeout=timeout, metadata=self._metadata)

    def _units(self, entries: Sequence[AppLogEntry]) -> List[tuple]:
        """What one handler call covers: (last id, count, the entries it is given); none for a heartbeat."""
        if not entries:
            return []
        if self._batches:
            return [(entries[-1].id, len(entries), list(entries))]
        return [(entry.id, 1, entry) for entry in entries]

    def _follow(self, after: int, saver: OffsetSaver) -> int:
        """Streams from after + 1 until stopped, reconnecting from the last handled id + 1, never further back."""
        handled = 0
        backoff = Backoff(*self._backoff_range, self._stop)
        while not self._stop.is_set():
            request = event_store_pb2.LogsPollRequest(
                from_id=after + 1, selector=self.selector, pipeline_id=self.pipeline_id
            )
            call = self._event_store.LogsPoll(request, metadata=self._metadata)
            with self._lock:
                self._call = call
            if self._stop.is_set():  # stop() ran before the call was registered
                call.cancel()
            silence = _Watchdog(self._heartbeat_timeout, call.cancel)
            cause: Union[BaseException, str]
            try:
                silence.arm()
                for response in call:
                    silence.disarm()
                    backoff.reset()
                    for last, count, argument in self._units(response.entries):
                        if self._stop.is_set() or not self._handle(argument):
                            break
                        after = last
                        handled += count
                        saver.handled(after, count)
                    if self._stop.is_set():
                        break
                    silence.arm()
                cause = "LogsPoll ended, but the log never ends: reconnecting"
            except grpc.RpcError as error:
                if self._stop.is_set():
                    break
                if silence.fired:
                    cause = f"LogsPoll brought no message for {self._heartbeat_timeout:g} s, not even a heartbeat"
                elif not is_transient(error):
                    self._fail(error)
                    break
                else:
                    cause = error
            finally:
                silence.disarm()
                call.cancel()
                with self._lock:
                    self._call = None
            if self._stop.is_set():
                break
            delay = backoff.next_delay()
            self._on_reconnect(cause, delay, backoff.attempt)
            backoff.sleep(delay)
        return handled

    def _handle(self, argument: object) -> bool:
        """Calls the handler, retrying it `handler_retries` times; False when it failed for good (the consumer then
        stops with its error) or stopping cut a retry short."""
        retries = Backoff(*self._backoff_range, self._stop)
        for attempt in range(self._handler_retries + 1):
            try:
                self._handler(argument)
                return True
            except Exception as error:  # noqa: BLE001 - the handler's error is the caller's to see
                if attempt == self._handler_retries:
                    self._fail(error)
                    return False
                if not retries.sleep(retries.next_delay()):
                    return False
        return False


class _Watchdog:
    """Calls `on_silence` once `seconds` pass between `arm` and `disarm` (never when `seconds` is 0)."""

    def __init__(self, seconds: float, on_silence: Callable[[], None]) -> None:
        self._seconds, self._on_silence = seconds, on_silence
        self._timer: Optional[threading.Timer] = None
        self.fired = False

    def _fire(self) -> None:
        self.fired = True
        self._on_silence()

    def arm(self) -> None:
        self.disarm()
        if self._seconds > 0:
            self._timer = threading.Timer(self._seconds, self._fire)
            self._timer.daemon = True
            self._timer.start()

    def disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


def _channel_options(
    initial_backoff: float, max_backoff: float, keepalive_time: float, keepalive_timeout: float
) -> list:
    """The channel options that make grpc reconnect as the consumer means to:

    - PINGs find a connection that died silently (a NAT that forgot it): by default one is sent after 15 s without
      a frame and the connection dropped when no answer comes within 10 s, as the Node transport does. All calls
      share one connection, so without them a stream reopened after a heartbeat timeout would wait on the dead one.
    - The channel's own reconnection backoff follows ours instead of grpc's default (1 s growing to 120 s), but not
      its minimum: grpc.min_reconnect_backoff_ms is also the time a connection attempt gets (20 s by default), and a
      short one fails every handshake with a busy server.
    - After a lost connection the channel resolves the target's name again before it reconnects, and grpc allows one
      resolution every 30 s by default: a restarted Event Store would be back long before the consumer noticed.
    - A LogsPoll message holds at most 256 KiB of entries, but one large entry travels alone: accept more than
      grpc's 4 MiB default."""
    initial_ms, max_ms = max(1, int(initial_backoff * 1000)), max(1, int(max_backoff * 1000))
    keepalive_ms = max(1, int(keepalive_time * 1000))
    return [
        ("grpc.keepalive_time_ms", keepalive_ms),
        ("grpc.keepalive_timeout_ms", max(1, int(keepalive_timeout * 1000))),
        # A LogsPoll client sends nothing while it waits: PINGs must go out without data frames too.
        ("grpc.http2.max_pings_without_data", 0),
        ("grpc.http2.min_sent_ping_interval_without_data_ms", keepalive_ms),
        ("grpc.initial_reconnect_backoff_ms", initial_ms),
        ("grpc.max_reconnect_backoff_ms", max_ms),
        ("grpc.dns_min_time_between_resolutions_ms", max(100, initial_ms)),
        ("grpc.max_receive_message_length", 64 * 1024 * 1024),
    ]


def run_until_signalled(consumer: Consumer, signals: Sequence[int] = ()) -> Summary:
    """Runs `consumer` in a worker thread until it ends or one of `signals` (default SIGINT and SIGTERM) arrives,
    then stops it cleanly. The signal handler only sets a flag: a grpc call must not be cancelled from inside a
    signal handler, which interrupts the main thread at any point (possibly inside grpc's own locks)."""
    import signal as signal_module

    requested = threading.Event()
    chosen = signals or (signal_module.SIGINT, signal_module.SIGTERM)
    previous = {sig: signal_module.signal(sig, lambda *_: requested.set()) for sig in chosen}
    outcome: dict = {}

    def work() -> None:
        try:
            outcome["summary"] = consumer.run()
        except BaseException as error:  # noqa: BLE001 - handed back to the caller's thread below
            outcome["error"] = error

    worker = threading.Thread(target=work, name="eskit-consumer")
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.1)
            if requested.is_set():
                consumer.stop()
    finally:
        for sig, handler in previous.items():
            signal_module.signal(sig, handler)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["summary"]
