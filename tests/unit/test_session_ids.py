"""Session ids and owner liveness."""

from __future__ import annotations

import os
import subprocess
import sys

from contextree.progress.session import (
    ACTIVE,
    INTERRUPTED,
    SessionRecord,
    effective_status,
    new_session_id,
    owner_alive,
    process_start_time,
)


def test_session_ids_are_unique_under_rapid_creation() -> None:
    ids = [new_session_id() for _ in range(50_000)]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 26 and i.isalnum() and i.upper() == i for i in ids)


def test_session_ids_are_unique_across_processes() -> None:
    code = ("from contextree.progress.session import new_session_id as n;"
            "print(*(n() for _ in range(2000)))")
    outputs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              check=True).stdout.split() for _ in range(3)]
    ids = [i for out in outputs for i in out] + [new_session_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids) == 8000


def test_session_ids_sort_by_creation_time() -> None:
    first = new_session_id()
    later = [new_session_id() for _ in range(100)]
    assert all(first[:10] <= other[:10] for other in later)


def _record(pid: int, proc_start: float, status: str = ACTIVE, host: str = "") -> SessionRecord:
    from contextree.progress.session import HOST

    return SessionRecord(session_id=new_session_id(), command="t", pid=pid, host=host or HOST,
                         proc_start=proc_start, status=status)


def test_a_live_owner_is_active_and_a_dead_one_interrupted() -> None:
    me = _record(os.getpid(), process_start_time())
    assert effective_status(me) == ACTIVE
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    start = process_start_time(child.pid)
    child.wait()
    assert effective_status(_record(child.pid, start)) == INTERRUPTED


def test_pid_reuse_with_another_start_time_is_interrupted() -> None:
    assert not owner_alive(os.getpid(), "", process_start_time() - 100.0)
    assert effective_status(_record(os.getpid(), process_start_time() - 100.0)) == INTERRUPTED


def test_ended_status_wins_and_another_host_is_never_called_interrupted() -> None:
    assert effective_status(_record(999_999, 1.0, status="completed")) == "completed"
    assert effective_status(_record(999_999, 1.0, host="some-other-host")) == ACTIVE
