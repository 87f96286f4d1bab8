"""Liveness where the owner cannot be probed: PID namespaces, other hosts, the heartbeat.

A writer in its own PID namespace records pid 1; a reader outside must judge it by its
heartbeat, never by probing pid 1. Stale bounds and clocks are injected, so nothing here
waits for time to pass: the tests wait on state.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from contextree.errors import SessionStateError
from contextree.progress import EventStore, ProgressRuntime
from contextree.progress.event import format_ts, parse_ts
from contextree.progress.liveness import Liveness
from contextree.progress.session import HOST, SessionMeta, SessionRecord
from contextree.progress.store import encode_meta, encode_record
from tests.support.processes import ROOT, read_line

WAIT_S = 60.0


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def _put(store: EventStore, record: SessionRecord, meta: SessionMeta | None) -> None:
    key = record.session_id.encode()

    def write(txn: object) -> None:
        txn.put(key, encode_record(record), db=store.sessions_db)  # type: ignore[attr-defined]
        if meta is not None:
            txn.put(key, encode_meta(meta), db=store.meta_db)  # type: ignore[attr-defined]

    store.write(write)


def _status(store: EventStore, session_id: str) -> str:
    return {r.session_id: r.status for r in store.list_sessions()}[session_id]


def test_open_session_heartbeat_advances_without_events(store_path: Path) -> None:
    store = EventStore.open(store_path)
    with ProgressRuntime(store, heartbeat_interval_s=0.01) as runtime:
        session = runtime.session("quiet.command")
        first = runtime.store.get_meta(session.session_id)
        assert first is not None and first.heartbeat_at is not None

        def advanced() -> bool:
            meta = runtime.store.get_meta(session.session_id)
            assert meta is not None and meta.heartbeat_at is not None
            return parse_ts(meta.heartbeat_at) > parse_ts(first.heartbeat_at or "")

        _wait_for(advanced, "a heartbeat with no event emitted")
        meta = runtime.store.get_meta(session.session_id)
        assert meta is not None and meta.next_seq == first.next_seq  # no event was added
        record = runtime.store.get_session(session.session_id)
        assert record is not None and record.pid_ns and record.boot_id
        session.end()


def test_other_host_judged_by_heartbeat(store_path: Path) -> None:
    beat = time.time()
    record = SessionRecord(session_id="01JOTHERHOST00000000000000", command="scan", pid=4242,
                           host="elsewhere.example", started_at=format_ts(beat - 100),
                           pid_ns="pid:[1]", boot_id="another-boot")
    with ProgressRuntime.open(store_path) as runtime:
        store = runtime.store
        _put(store, record, SessionMeta(next_seq=2, heartbeat_at=format_ts(beat)))
        store.liveness = Liveness(stale_after_s=30.0, clock=lambda: beat + 10)
        assert _status(store, record.session_id) == "active"
        with pytest.raises(SessionStateError):
            store.delete_session(record.session_id)
        store.liveness = Liveness(stale_after_s=30.0, clock=lambda: beat + 31)
        assert _status(store, record.session_id) == "interrupted"
        store.delete_session(record.session_id)
        assert store.get_session(record.session_id) is None


def test_records_without_identity_read_as_before(store_path: Path) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    old_here = SessionRecord(session_id="01JOLDHERE0000000000000000", command="scan",
                             pid=gone.pid, host=HOST, proc_start=1.0,
                             started_at=format_ts(1.0))
    old_there = SessionRecord(session_id="01JOLDTHERE000000000000000", command="scan",
                              pid=4242, host="elsewhere.example", started_at=format_ts(1.0))
    with ProgressRuntime.open(store_path) as runtime:
        store = runtime.store
        _put(store, old_here, None)
        _put(store, old_there, None)
        store.liveness = Liveness(stale_after_s=0.0, clock=lambda: 1e12)
        assert _status(store, old_here.session_id) == "interrupted"
        assert _status(store, old_there.session_id) == "active"  # cannot tell: assumed alive


def _unshare_prefix() -> list[str]:
    if shutil.which("unshare") is None:
        pytest.skip("no unshare command on this system")
    for prefix in (["unshare", "--pid", "--fork", "--mount-proc"],
                   ["unshare", "--user", "--map-root-user", "--pid", "--fork", "--mount-proc"]):
        if subprocess.run([*prefix, "true"], capture_output=True).returncode == 0:
            return prefix
    pytest.skip("creating a PID namespace is not permitted here")


def test_writer_in_own_pid_namespace(store_path: Path) -> None:
    prefix = _unshare_prefix()
    EventStore.open(store_path).close()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    writer = subprocess.Popen(
        [*prefix, sys.executable, "-m", "tests.support.writer", str(store_path),
         "--flush-every", "10", "--rate", "200"],
        stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT, start_new_session=True,
    )
    try:
        session_id = read_line(writer, "SESSION ")
        read_line(writer, "ACK ")
        store = EventStore.open_readonly(store_path)
        try:
            record = store.get_session(session_id)
            assert record is not None and record.pid == 1  # its own namespace's init
            assert _status(store, session_id) == "active"
        finally:
            store.close()
    finally:
        os.killpg(writer.pid, signal.SIGKILL)
        writer.wait()
    store = EventStore.open_readonly(store_path)
    try:
        meta = store.get_meta(session_id)
        assert meta is not None and meta.heartbeat_at is not None
        last_beat = parse_ts(meta.heartbeat_at)
        store.liveness = Liveness(stale_after_s=30.0, clock=lambda: last_beat + 31)
        assert _status(store, session_id) == "interrupted"
    finally:
        store.close()
