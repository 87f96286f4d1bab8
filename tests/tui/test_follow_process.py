"""Following a session written by another process, live, to the same final state as replay."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from contextree.progress import EventStore
from contextree.progress.reducer import replay
from tests.tui.conftest import AppFactory, wait_until

ROOT = Path(__file__).resolve().parents[2]
FAILING = "pkg1/pkg2/module_03.py"


@pytest.fixture
def writer(store: EventStore) -> Iterator[subprocess.Popen[str]]:
    """A `context generate`-like writer in its own process, waiting for a line to start."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.tui.synthetic", str(store.path), "--wait-for-go",
         "--speed", "4", "--latency-ms", "20", "--fail", FAILING],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def read_line(process: subprocess.Popen[str], prefix: str) -> str:
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith(prefix):
            return line[len(prefix):].strip()
    raise AssertionError(f"the writer exited (rc={process.wait()}) before {prefix!r}")


async def test_follows_a_session_written_by_another_process(
        store: EventStore, make_app: AppFactory, writer: subprocess.Popen[str]) -> None:
    session_id = read_line(writer, "SESSION ")
    app = make_app(clock=time.time)  # no session named: the dashboard finds the active one
    async with app.run_test(size=(140, 40)) as pilot:
        view = app.session_view
        await wait_until(pilot, lambda: view.session_id == session_id, "auto-follow")
        await wait_until(pilot, lambda: view.state is not None, "the session loaded")
        assert view.state is not None and view.state.status == "active"
        assert writer.stdin is not None
        writer.stdin.write("go\n")
        writer.stdin.flush()
        # the first level started (a loaded machine may show a later one first: the writer
        # does not wait for the UI)
        await wait_until(pilot, lambda: view.state is not None
                         and view.state.current_level is not None, "the first level, live")
        await wait_until(pilot, lambda: view.finished, "the session ended", timeout=60)
        read_line(writer, "DONE")
        state = view.state
        assert state is not None
        assert state.status == "completed"
        assert state.failed_count == 1 and state.nodes[FAILING].status == "failed"
        blocked = [path for path, found in state.nodes.items()
                   if found.skip_reason == "parent_of_failed"]
        assert blocked  # the failed file's ancestors are skipped: a child failed
        assert state.completed_count == state.total_nodes - 1 - len(blocked)
        expected = replay(store.read_events(session_id), store.get_session(session_id))
        assert state.to_json() == expected.to_json()  # live == replay (the seed's guarantee)
        # the meter takes its samples once the last batch is on screen (after a refresh)
        await wait_until(pilot, lambda: len(view.freshness) > 0, "the freshness samples")
        status_bar = app.query_one("StatusBar")
        await wait_until(pilot, lambda: status_bar.freshness is not None,
                         "the freshness in the status bar")
