#!/usr/bin/python3
"""An example consumer: follows the Application Log from its saved offset and prints each entry as one line of JSON
(the protobuf JSON mapping: ids as strings, camelCase names, as Connect JSON and `toJson` in TypeScript give).
Its own messages (start, reconnections, stop) go to stderr as JSON lines, so stdout holds entries only.

Usage: main.py [--target 127.0.0.1:8081] [--consumer-id python-example] [--selector 'User.*'] ...
(see --help); the token, if the Event Store needs one, comes from ESKIT_TOKEN. Ctrl-C or SIGTERM stops it cleanly:
the offset is saved, and the next run resumes right after the last entry printed."""
import argparse
import json
import os
import pathlib
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Print the ESKIT Application Log as JSON lines, resuming where it stopped.")
    p.add_argument("--target", default="127.0.0.1:8081", help="the Event Store's host:port (default %(default)s)")
    p.add_argument("--consumer-id", default="python-example", help="whose offset to resume (default %(default)s)")
    p.add_argument("--selector", default="", help="'' or '*' = all, 'User.*', 'User.Created', '*.Deleted'")
    p.add_argument("--pipeline-id", default="", help="only this entity type (combined with --selector)")
    p.add_argument("--start", default="saved", choices=["saved", "beginning", "end"])
    p.add_argument("--batches", action="store_true", help="hand the handler each LogsPoll message's entries at once")
    p.add_argument("--save-every-entries", type=int, default=100)
    p.add_argument("--save-interval-ms", type=int, default=1000)
    p.add_argument("--initial-backoff-ms", type=int, default=100)
    p.add_argument("--max-backoff-ms", type=int, default=10_000)
    p.add_argument("--heartbeat-timeout-ms", type=int, default=45_000, help="0 = never")
    p.add_argument("--keepalive-time-ms", type=int, default=15_000, help="PING a connection this long silent")
    p.add_argument("--keepalive-timeout-ms", type=int, default=10_000, help="drop it when no answer came by then")
    p.add_argument("--stubs", default=str(HERE / "gen"), help="where generate.py put the stubs (default gen/)")
    return p.parse_args()


def log(level: str, msg: str, **fields: object) -> None:
    record = {"time": round(time.time() * 1000), "level": level, "msg": msg, **fields}
    print(json.dumps(record, default=str), file=sys.stderr, flush=True)


def main() -> int:
    args = parse_args()
    if not (pathlib.Path(args.stubs) / "eskit" / "eventstore" / "v1" / "event_store_pb2.py").is_file():
        log("error", f"no stubs in {args.stubs}: run generate.py first")
        return 2
    sys.path.insert(0, args.stubs)
    # After sys.path holds the stubs: consumer imports them.
    import grpc
    from google.protobuf import json_format

    from consumer import Consumer, run_until_signalled

    def print_entry(entry) -> None:
        line = json.dumps(json_format.MessageToDict(entry), separators=(",", ":"), ensure_ascii=False)
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    def on_reconnect(error, delay: float, attempt: int) -> None:
        if isinstance(error, grpc.RpcError):
            reason = {"code": error.code().name, "details": error.details()}
        else:
            reason = {"reason": str(error)}
        log("warn", "reconnecting", delayMs=round(delay * 1000), attempt=attempt, **reason)

    consumer = Consumer(
        args.target,
        args.consumer_id,
        (lambda batch: [print_entry(e) for e in batch]) if args.batches else print_entry,
        selector=args.selector,
        pipeline_id=args.pipeline_id,
        start=args.start,
        batches=args.batches,
        token=os.environ.get("ESKIT_TOKEN") or None,
        save_every_entries=args.save_every_entries,
        save_interval=args.save_interval_ms / 1000,
        initial_backoff=args.initial_backoff_ms / 1000,
        max_backoff=args.max_backoff_ms / 1000,
        heartbeat_timeout=args.heartbeat_timeout_ms / 1000,
        keepalive_time=args.keepalive_time_ms / 1000,
        keepalive_timeout=args.keepalive_timeout_ms / 1000,
        on_reconnect=on_reconnect,
        on_started=lambda after: log("info", "started", after=str(after), fromId=str(after + 1)),
    )
    log("info", "consuming", target=args.target, consumerId=args.consumer_id, selector=args.selector)
    try:
        summary = run_until_signalled(consumer)
    except grpc.RpcError as error:
        log("error", "stopped by an error", code=error.code().name, details=error.details())
        return 1
    except Exception as error:  # noqa: BLE001 - reported, then a failed exit
        log("error", "stopped by an error", error=repr(error))
        return 1
    log("info", "stopped", offset=str(summary.offset), handled=summary.handled)
    return 0


if __name__ == "__main__":
    sys.exit(main())
