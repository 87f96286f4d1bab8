"""The pieces under the command bar and the content browser, as plain functions: parsing and
refusing lines, capturing one thread's output, the bounded history, reading frames."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from contextree.cli.inprocess import captured_output, parse_command, run_captured
from contextree.engine.workspace.layout import Workspace
from contextree.errors import UsageError
from contextree.progress import EventStore
from contextree.tui.command_history import CommandHistory
from contextree.tui.commands import CommandRunner
from contextree.tui.frames import load_frame_markdown
from tests.tui.workspaces import make_workspace, put_frame, scan


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return make_workspace(tmp_path / "demo")


def runner(workspace: Workspace) -> CommandRunner:
    return CommandRunner(workspace, on_session=lambda run: None, on_finished=lambda run: None)


def test_parse_follows_the_click_tree_and_runs_nothing(workspace: Workspace) -> None:
    parsed = parse_command(["-C", str(workspace.root), "context", "generate", "pkg", "--force"])
    assert parsed.path == ("context", "generate")
    assert parsed.params["force"] is True and parsed.params["path"] == "pkg"
    assert parse_command(["context"]).help_text is not None  # a bare group: its help
    assert "Usage: ctree scan" in (parse_command(["scan", "--help"]).help_text or "")
    assert not workspace.store_path.exists()  # nothing ran


@pytest.mark.parametrize(("line", "error"), [
    ("context generate --bogus", "No such option '--bogus'. — try `context generate --help`"),
    ("frobnicate", "No such command 'frobnicate'. — try `--help`"),
    ("sessions list --limit x", "Invalid value for '--limit'"),
    ("scan 'unclosed", "No closing quotation — close the quote"),
    ("tui", "`tui` cannot run here: the TUI is already open"),
    ("sessions events last --follow", "`sessions events` cannot run here"),
    ("", "type a command"),
])
def test_invalid_lines_are_one_line_errors(workspace: Workspace, line: str, error: str) -> None:
    with pytest.raises(UsageError) as raised:
        runner(workspace).parse(line)
    assert str(raised.value).startswith(error)
    assert "\n" not in str(raised.value)


def test_a_leading_ctree_is_optional(workspace: Workspace) -> None:
    assert runner(workspace).parse("ctree status").path == ("status",)


def test_capture_takes_only_the_calling_threads_output(
        capsys: pytest.CaptureFixture[str]) -> None:
    started, release = threading.Event(), threading.Event()

    def other() -> None:
        started.set()
        release.wait(5)
        print("from another thread")

    thread = threading.Thread(target=other)
    thread.start()
    with captured_output() as capture:
        started.wait(5)
        print("mine")
        release.set()
        thread.join()
    assert capture.output() == "mine\n"
    assert "from another thread" in capsys.readouterr().out


def test_run_captured_reports_the_session_and_the_error_line(workspace: Workspace) -> None:
    sessions: list[str] = []
    args = ["-C", str(workspace.root)]
    result = run_captured([*args, "scan"], on_session=lambda s: sessions.append(s.session_id))
    assert result.ok and len(sessions) == 1
    status = run_captured([*args, "status"], on_session=lambda s: sessions.append(s.session_id))
    assert status.ok and "workspace" in status.output and len(sessions) == 1  # a read: none
    failed = run_captured([*args, "context", "get", "missing.py"])
    assert failed.exit_code == 1 and failed.error_line is not None
    assert failed.error_line.startswith("error: missing.py is not in the tree")


def test_history_is_bounded_and_skips_repeats(tmp_path: Path) -> None:
    path = tmp_path / ".ctree" / "tui_history"
    history = CommandHistory(path, max_entries=3)
    for line in ("scan", "scan", "status", "agent list", "provider list"):
        history.add(line)
    assert history.entries == ["status", "agent list", "provider list"]
    assert CommandHistory(path, max_entries=3).entries == history.entries
    assert history.previous("draft") == "provider list"
    assert history.previous("") == "agent list"
    assert history.next() == "provider list" and history.next() == "draft"
    assert history.next() is None


def test_an_unreadable_history_is_an_empty_one(tmp_path: Path) -> None:
    path = tmp_path / "history"
    path.mkdir()  # a directory where the file should be
    history = CommandHistory(path)
    assert history.entries == []
    history.add("status")  # cannot be written: remembered for this run only
    assert history.entries == ["status"]


def test_load_frame_markdown_reads_the_stored_frame(workspace: Workspace) -> None:
    store = EventStore.open(workspace.store_path)
    try:
        assert load_frame_markdown(store, "node", "frame") is None  # no frames yet
        scan(workspace, store)
        frame = put_frame(store, "pkg/core.py", "# core\n")
        assert load_frame_markdown(store, frame.node_id, frame.frame_id) == "# core\n"
        assert load_frame_markdown(store, "another node", frame.frame_id) is None
        assert load_frame_markdown(store, frame.node_id, None) is None
    finally:
        store.close()
