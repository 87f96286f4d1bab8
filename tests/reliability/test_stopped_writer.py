"""Readers beside a writer stopped inside a commit (Ctrl-Z, SIGSTOP, a debugger).

A helper process begins an LMDB write transaction and waits, holding the write lock the way a
stopped `ctree context generate` would. A process that already has the store open keeps
reading sessions and events: LMDB readers never wait for the writer. A process that opens
the store only now should answer too, but today it waits until the writer resumes: opening
a store takes a write transaction (`EventStore.open_db` opens sub-databases in one, because a
py-lmdb handle opened in a read transaction dies with it). That gap is the strict xfail below.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from contextree.progress import ProgressRuntime
from tests.reliability.figures import report_figures
from tests.reliability.forked import run_cli

HOLD_WRITE_LOCK = """
import sys, lmdb
env = lmdb.open(sys.argv[1], max_dbs=32, subdir=True)
txn = env.begin(write=True)
print("LOCKED", flush=True)
sys.stdin.read()  # until the test closes our stdin
txn.abort()
"""


@pytest.fixture
def workspace_with_a_stopped_writer(tmp_path: Path) -> Iterator[Path]:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "a.py").write_text("A = 1\n", encoding="utf-8")
    assert run_cli(["-C", str(workspace), "scan"]).code == 0
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_WRITE_LOCK, str(workspace / ".ctree" / "store")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "LOCKED"
        yield workspace
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(10)


def test_an_open_reader_is_not_blocked_by_a_stopped_writer(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    assert run_cli(["-C", str(workspace), "scan"]).code == 0
    store_path = workspace / ".ctree" / "store"
    with ProgressRuntime.open(store_path) as runtime:  # opened before the writer stops
        holder = subprocess.Popen([sys.executable, "-c", HOLD_WRITE_LOCK, str(store_path)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "LOCKED"
            started = time.monotonic()
            (record,) = runtime.store.list_sessions()
            events = runtime.store.read_events(record.session_id)
            elapsed = time.monotonic() - started
        finally:
            assert holder.stdin is not None
            holder.stdin.close()
            holder.wait(10)
    assert record.status == "completed" and events[-1].type == "session_ended"
    assert elapsed < 1.0
    report_figures("reader beside a writer stopped mid-commit", read_ms=round(elapsed * 1000),
                   events_read=len(events))


@pytest.mark.xfail(strict=True, reason=(
    "progress/store.py: EventStore.open_db opens every sub-database in a write transaction, "
    "so a process that opens the store (any read command, the TUI) waits for the write lock "
    "while another ctree process is stopped mid-commit"))
def test_a_new_reader_is_not_blocked_by_a_stopped_writer(
    workspace_with_a_stopped_writer: Path,
) -> None:
    result = run_cli(["-C", str(workspace_with_a_stopped_writer), "sessions", "list"],
                     kill_after_s=3.0)
    assert not result.killed, "sessions list waited for the stopped writer"
    assert result.code == 0 and "scan" in result.stdout

