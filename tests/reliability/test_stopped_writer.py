"""Readers beside a writer stopped inside a commit (Ctrl-Z, SIGSTOP, a debugger).

A helper process begins an LMDB write transaction and waits, holding the write lock the way a
stopped `ctree context generate` would. A process that already has the store open keeps
reading sessions and events: LMDB readers never wait for the writer. A process that opens
the store only now answers too: every read command opens it read-only (no write lock).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from contextree.progress import ProgressRuntime
from tests.pseudo_terminal import (
    drain_until_exit,
    open_pty,
    read_screen_until,
    start_in_pty,
    terminal_env,
)
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


READ_COMMANDS = [
    ["sessions", "list"],
    ["sessions", "show", "last"],
    ["sessions", "events", "last"],
    ["sessions", "replay", "last"],
    ["status"],
    ["context", "get", "a.py"],
]
HANG_GUARD_S = 120.0
"""Only a guard against a reader that waits forever; a passing reader answers at once."""


def _ctree(workspace: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "contextree", "-C", str(workspace), *args],
                          capture_output=True, text=True, timeout=HANG_GUARD_S)


@pytest.fixture
def stopped_generate(tmp_path: Path) -> Iterator[Path]:
    """A workspace whose `ctree context generate` is stopped (SIGSTOP, as Ctrl-Z does) while
    it runs, beside a process stopped while holding the store's write transaction: wherever
    the generate stopped, the write lock is taken."""
    workspace = tmp_path / "ws"
    for index in range(200):
        (workspace / f"pkg{index % 10}").mkdir(parents=True, exist_ok=True)
        (workspace / f"pkg{index % 10}" / f"m{index}.py").write_text(
            f"def f{index}():\n    return {index}\n", encoding="utf-8")
    (workspace / "a.py").write_text("A = 1\n", encoding="utf-8")
    assert _ctree(workspace, "context", "generate", "a.py").returncode == 0
    generate = subprocess.Popen(
        [sys.executable, "-m", "contextree", "-C", str(workspace), "context", "generate",
         "--force"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    holder = None
    try:
        assert generate.stdout is not None
        assert generate.stdout.readline().startswith("session ")
        os.kill(generate.pid, signal.SIGSTOP)
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLD_WRITE_LOCK, str(workspace / ".ctree" / "store")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert holder.stdout is not None and holder.stdout.readline().strip() == "LOCKED"
        os.kill(holder.pid, signal.SIGSTOP)
        yield workspace
    finally:
        for process in (holder, generate):
            if process is not None:
                os.kill(process.pid, signal.SIGCONT)
        if holder is not None:
            assert holder.stdin is not None
            holder.stdin.close()
            holder.wait(HANG_GUARD_S)
        generate.wait(HANG_GUARD_S)


def test_every_read_command_answers_beside_a_stopped_generate(stopped_generate: Path) -> None:
    answers = {" ".join(args): _ctree(stopped_generate, *args) for args in READ_COMMANDS}
    failed = {name: run.stderr for name, run in answers.items() if run.returncode != 0}
    assert failed == {}
    assert "context.generate" in answers["sessions list"].stdout
    assert answers["context get a.py"].stdout.startswith("# `a.py`")
    assert "workspace" in answers["status"].stdout


def test_a_new_reader_is_not_blocked_by_a_stopped_writer(
    workspace_with_a_stopped_writer: Path,
) -> None:
    result = run_cli(["-C", str(workspace_with_a_stopped_writer), "sessions", "list"],
                     kill_after_s=HANG_GUARD_S)
    assert not result.killed, "sessions list waited for the stopped writer"
    assert result.code == 0 and "scan" in result.stdout


TUI_SIZE = (100, 30)
"""Columns and rows of the pseudo-terminal the TUI runs in."""


def _open_pty() -> tuple[int, int]:
    """A pseudo-terminal `(controller, terminal)` of `TUI_SIZE`, or a skip where there is
    none (no /dev/ptmx, no termios)."""
    try:
        return open_pty(*TUI_SIZE)
    except (ImportError, OSError) as exc:
        pytest.skip(f"no pseudo-terminal available: {exc}")


DASHBOARD_DRAWN = "Active operations"
"""A box title of the dashboard, the view a fresh `ctree tui` opens on."""
STORE_READ = "context.generate"
"""The stopped operation's command, drawn once the store was read: a fresh TUI beside a running
operation follows it (its session view's header), else lists it on the dashboard."""


def test_a_fresh_tui_opens_beside_a_stopped_generate_and_quits(stopped_generate: Path) -> None:
    """The real `ctree tui`, started in a pseudo-terminal while a generate is stopped with the
    store's write lock held, draws its dashboard, reads the store (the stopped operation
    appears) and quits with 0 on `q`."""
    script = Path(sys.executable).with_name("ctree")
    if not script.is_file():
        pytest.skip("the ctree script is not installed beside this interpreter")
    controller, terminal = _open_pty()
    try:
        process = start_in_pty([str(script), "-C", str(stopped_generate), "tui"], terminal,
                               terminal_env())
    finally:
        os.close(terminal)
    try:
        screen = read_screen_until(controller, process, lambda text: all(
            part in text for part in (DASHBOARD_DRAWN, STORE_READ)), HANG_GUARD_S)
        assert DASHBOARD_DRAWN in screen, f"the TUI drew no dashboard:\n{screen}"
        assert STORE_READ in screen, f"the TUI did not draw the store's session:\n{screen}"
        os.write(controller, b"q")
        assert drain_until_exit(controller, process, HANG_GUARD_S) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(HANG_GUARD_S)
        os.close(controller)
