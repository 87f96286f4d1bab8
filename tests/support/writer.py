"""A writer process for tests: emits events into a store and reports what is durable.

    python -m tests.support.writer STORE [--count N] [--flush-every K] [--rate R] [--no-end]

Prints `SESSION <id>` once the session has started, then `ACK <n>` after every flush, where
n events (besides `session_started`) are durable. With `--no-end` it exits without ending the
session (as a crash would); otherwise it ends it and prints `DONE`.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from contextree.progress import ProgressRuntime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("store")
    parser.add_argument("--count", type=int, default=1_000_000_000)
    parser.add_argument("--flush-every", type=int, default=100)
    parser.add_argument("--rate", type=float, default=0.0, help="events per second (0: max)")
    parser.add_argument("--no-end", action="store_true")
    parser.add_argument("--command", default="test.writer")
    parser.add_argument("--map-size", type=int, default=0, help="initial LMDB map size (bytes)")
    parser.add_argument("--payload-bytes", type=int, default=0, help="pad each event's data")
    options = parser.parse_args()
    if options.map_size:
        runtime = ProgressRuntime.open(options.store, map_size=options.map_size)
    else:
        runtime = ProgressRuntime.open(options.store)
    padding = "x" * options.payload_bytes
    session = runtime.session(options.command, {"count": options.count})
    print(f"SESSION {session.session_id}", flush=True)
    interval = 1.0 / options.rate if options.rate else 0.0
    next_at = time.monotonic()
    for index in range(1, options.count + 1):
        session.emit("node_generation_started", {"path": f"f{index}.py", "index": index,
                                                 "t_emit": time.time(), "pad": padding})
        if index % options.flush_every == 0:
            runtime.flush()
            print(f"ACK {index}", flush=True)
        if interval:
            next_at += interval
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
    runtime.flush()
    print(f"ACK {options.count}", flush=True)
    if options.no_end:
        sys.stdout.flush()
        os._exit(0)
    session.end()
    runtime.close()
    print("DONE", flush=True)


if __name__ == "__main__":
    main()
