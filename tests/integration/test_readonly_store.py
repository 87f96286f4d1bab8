"""`EventStore.open_readonly`: a reader that takes no write lock and creates nothing.

A real writer process holds a write transaction of the store and is stopped (SIGSTOP, what
Ctrl-Z does); a reader process opening the store read-only lists sessions and reads events
at once. A store written by an older version (some sub-databases missing) reads as empty.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import lmdb
import pytest

from contextree.engine.generation.frames import FrameStore
from contextree.engine.workspace.tree import TreeStore
from contextree.errors import StoreError, StoreNotFoundError
from contextree.progress import EventStore, ProgressRuntime
from contextree.progress.schema import OBS_SESSIONS

HANG_GUARD_S = 120.0
"""Only a guard against a reader that hangs forever; a passing reader answers at once."""

WRITER = """
import sys
from contextree.progress import EventStore
store = EventStore.open(sys.argv[1])
def hold(txn):
    print("LOCKED", flush=True)
    sys.stdin.read()  # until the test closes our stdin
store.write(hold)
"""

READER = """
import sys
from contextree.progress import EventStore
store = EventStore.open_readonly(sys.argv[1])
(record,) = store.list_sessions()
events = store.read_events(record.session_id)
print(record.command, record.status, events[-1].type, store.get_meta(record.session_id).event_count)
"""


def _a_store_with_one_session(path: Path) -> None:
    with ProgressRuntime.open(path) as runtime, runtime.session("demo.write", args={}) as session:
        session.emit("custom_step", {"n": 1})


@pytest.fixture
def stopped_writer(store_path: Path) -> Iterator[Path]:
    _a_store_with_one_session(store_path)
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(store_path)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "LOCKED"
        os.kill(writer.pid, signal.SIGSTOP)
        yield store_path
    finally:
        os.kill(writer.pid, signal.SIGCONT)
        assert writer.stdin is not None
        writer.stdin.close()
        writer.wait(HANG_GUARD_S)


def test_a_read_only_reader_beside_a_stopped_writer_reads_at_once(stopped_writer: Path) -> None:
    reader = subprocess.run([sys.executable, "-c", READER, str(stopped_writer)],
                            capture_output=True, text=True, timeout=HANG_GUARD_S)
    assert reader.returncode == 0, reader.stderr
    assert reader.stdout.split() == ["demo.write", "completed", "session_ended", "3"]


def test_no_store_is_one_line_naming_the_path_and_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "store"
    with pytest.raises(StoreNotFoundError) as caught:
        EventStore.open_readonly(missing)
    assert str(caught.value) == f"no store at {missing}"
    assert not (tmp_path / "nowhere").exists()


def test_an_older_store_without_some_databases_reads_as_empty(tmp_path: Path) -> None:
    path = tmp_path / "old"
    env = lmdb.open(str(path), max_dbs=8, subdir=True)
    env.open_db(OBS_SESSIONS.encode())
    env.close()
    store = EventStore.open_readonly(path)
    try:
        assert store.list_sessions() == []
        assert store.read_events("01" + "0" * 24) == []
        assert store.get_meta("01" + "0" * 24) is None and store.get_session("x") is None
        assert TreeStore.open_existing(store) is None
        assert FrameStore.open_existing(store) is None
        with pytest.raises(StoreError, match="read-only"):
            store.write(lambda txn: None)
    finally:
        store.close()
    with lmdb.open(str(path), max_dbs=8, subdir=True) as env, env.begin() as txn:
        names = {bytes(key) for key in txn.cursor().iternext(values=False)}
    assert names == {OBS_SESSIONS.encode()}


def test_a_read_only_open_shares_this_process_s_writable_store(store_path: Path) -> None:
    _a_store_with_one_session(store_path)
    writable = EventStore.open(store_path)
    try:
        reader = EventStore.open_readonly(store_path)
        assert reader is writable
        reader.close()
    finally:
        writable.close()
    reader = EventStore.open_readonly(store_path)
    try:
        with pytest.raises(StoreError, match="open read-only in this process"):
            EventStore.open(store_path)
        assert [record.command for record in reader.list_sessions()] == ["demo.write"]
    finally:
        reader.close()
