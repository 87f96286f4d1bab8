"""Stale reader slots of killed processes are cleared; a polling follower beside thousands of
commits does not make the file grow without bound."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import lmdb

from contextree.progress import ProgressRuntime
from contextree.progress.follow import Follower
from tests.reliability.figures import report_figures


def test_readers_killed_inside_a_transaction_are_cleared_on_open(store_path: Path) -> None:
    ProgressRuntime.open(store_path).close()
    pids = []
    for _ in range(3):
        ready_r, ready_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            env = lmdb.open(str(store_path), max_dbs=32)
            txn = env.begin()
            os.write(ready_w, b"x")
            signal.pause()
            txn.abort()
            os._exit(0)
        os.read(ready_r, 1)
        os.close(ready_r)
        os.close(ready_w)
        pids.append(pid)
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    with ProgressRuntime.open(store_path) as runtime:
        table = runtime.store.env.readers()
        assert not any(str(pid) in table for pid in pids)
        with runtime.session("after.readers") as session:
            session.emit("queue_stats", {"n": 1})
    report_figures("stale reader slots", killed_readers=len(pids), slots_left=0)


def test_the_file_stays_bounded_beside_a_polling_follower(store_path: Path) -> None:
    with ProgressRuntime.open(store_path) as runtime:
        session = runtime.session("growth")
        stop = threading.Event()
        seen = []

        def poll() -> None:
            follower = Follower(runtime.store, session.session_id)
            while not stop.is_set():
                seen.extend(follower.wait(0.05, poll_interval=0.0005))

        thread = threading.Thread(target=poll)
        thread.start()
        payload = {"path": "src/module.py", "pad": "y" * 100}
        for _ in range(10_000):
            session.emit("queue_stats", payload)
            runtime.flush()  # one commit per event: the worst case for page reuse
        stop.set()
        thread.join()
        session.end()
        size = (store_path / "data.mdb").stat().st_size
        payload_bytes = sum(len(v) for _, v in runtime.store.read_raw_events(session.session_id))
    assert len(seen) >= 10_000
    assert size <= 2 * payload_bytes + (1 << 20), f"{size} bytes for {payload_bytes} of events"
    report_figures("file growth beside a polling follower", commits=10_000,
                   followed=len(seen), store_bytes=size, payload_bytes=payload_bytes,
                   ratio=round(size / payload_bytes, 2))
