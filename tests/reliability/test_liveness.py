"""Liveness classification: killed, completed, live, stopped, forked child, pid reuse."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from contextree.progress import EventStore, ProgressRuntime
from contextree.progress.session import process_start_time
from contextree.progress.store import encode_record
from tests.reliability.figures import report_figures
from tests.support.processes import read_line, start_writer


def _statuses(store: Path) -> dict[str, str]:
    with ProgressRuntime.open(store) as runtime:
        return {r.session_id: r.status for r in runtime.store.list_sessions()}


def test_killed_completed_live_and_stopped_writers(store_path: Path) -> None:
    killed = start_writer(store_path, "--flush-every", "10")
    killed_id = read_line(killed, "SESSION ")
    read_line(killed, "ACK ")
    killed.kill()
    killed.wait()
    completed = start_writer(store_path, "--count", "5")
    completed_id = read_line(completed, "SESSION ")
    assert completed.wait(30) == 0
    live = start_writer(store_path, "--flush-every", "10", "--rate", "200")
    live_id = read_line(live, "SESSION ")
    stopped = start_writer(store_path, "--flush-every", "10", "--rate", "200")
    stopped_id = read_line(stopped, "SESSION ")
    # Open the store before the stop: the writer may be stopped inside a commit, holding the
    # write lock, and opening a store takes a write transaction (see test_stopped_writer).
    held = EventStore.open(store_path, create=False)
    stopped.send_signal(signal.SIGSTOP)
    try:
        statuses = _statuses(store_path)
        assert statuses == {killed_id: "interrupted", completed_id: "completed",
                            live_id: "active", stopped_id: "active"}
    finally:
        stopped.send_signal(signal.SIGCONT)
        held.close()
        for process in (live, stopped):
            process.kill()
            process.wait()
    after = _statuses(store_path)
    assert after[live_id] == after[stopped_id] == "interrupted"
    report_figures("liveness (processes)", killed="interrupted", completed="completed",
                   live="active", stopped="active", killed_after="interrupted", misread=0)


def test_forked_child_sessions_and_pid_reuse(store_path: Path) -> None:
    read_fd, write_fd = os.pipe()
    hold_fd, release_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        runtime = ProgressRuntime.open(store_path)
        session = runtime.session("fork.child")
        os.write(write_fd, session.session_id.encode() + b"\n")
        os.read(hold_fd, 1)  # stay alive until the parent has looked (it never writes)
        os._exit(0)
    os.close(write_fd)
    os.close(hold_fd)
    child_id = b""
    while not child_id.endswith(b"\n"):
        child_id += os.read(read_fd, 64)
    session_id = child_id.decode().strip()
    try:
        assert _statuses(store_path)[session_id] == "active"
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(read_fd)
        os.close(release_fd)
    assert _statuses(store_path)[session_id] == "interrupted"
    # A record naming a live pid (ours) with another start time is a reused pid: interrupted.
    with ProgressRuntime.open(store_path) as runtime:
        record = runtime.store.get_session(session_id)
        assert record is not None
        record.pid, record.proc_start = os.getpid(), process_start_time() - 3600
        runtime.store.write(lambda txn: txn.put(session_id.encode(), encode_record(record),
                                                db=runtime.store.sessions_db))
        mine = runtime.session("live.here")
        statuses = {r.session_id: r.status for r in runtime.store.list_sessions()}
        assert statuses[session_id] == "interrupted" and statuses[mine.session_id] == "active"
        mine.end()
    report_figures("liveness (fork, pid reuse)", forked_child_alive="active",
                   forked_child_killed="interrupted", reused_pid="interrupted", misread=0)
