"""The pieces under the command bar and the content browser, as plain functions: parsing and
refusing lines against the command tree, child commands and their sessions, the bounded
history, reading frames."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest

from contextree.cli.describe import describe
from contextree.engine.workspace.layout import Workspace
from contextree.errors import UsageError
from contextree.progress import EventStore, SessionRecord
from contextree.progress.event import format_ts
from contextree.tui.command_history import CommandHistory
from contextree.tui.command_tree import TREE_FILE, command_tree, parse_command
from contextree.tui.commands import CommandRun, CommandRunner
from contextree.tui.frames import load_frame_markdown
from tests.tui.workspaces import make_workspace, put_frame, scan


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return make_workspace(tmp_path / "demo")


def runner(workspace: Workspace) -> CommandRunner:
    return CommandRunner(workspace, on_finished=lambda run: None)


def test_parse_follows_the_command_tree_and_runs_nothing(workspace: Workspace) -> None:
    parsed = parse_command(["-C", str(workspace.root), "context", "generate", "pkg", "--force"])
    assert parsed.path == ("context", "generate")
    assert parsed.params["force"] is True and parsed.params["path"] == "pkg"
    assert not parsed.wants_help
    assert parse_command(["context"]).wants_help  # a bare group: its help
    assert parse_command(["scan", "--help"]).wants_help
    assert parse_command(["--version"]).wants_help
    assert not workspace.store_path.exists()  # nothing ran


def test_the_command_tree_file_matches_the_cli() -> None:
    """`command_tree.json` is the CLI's tree; if this fails run `python -m
    contextree.cli.describe` after changing a command or an option."""
    from contextree.cli.app import cli

    assert describe(command_tree()) == describe(cli)
    assert json.loads(TREE_FILE.read_text()) == describe(cli)


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


def test_a_child_reports_its_output_its_error_line_and_its_session(
        workspace: Workspace) -> None:
    finished: list[CommandRun] = []
    done = threading.Event()

    def on_finished(run: CommandRun) -> None:
        finished.append(run)
        done.set()

    commands = CommandRunner(workspace, on_finished=on_finished)
    run = commands.start("context get missing.py")
    assert run.pid is not None and run.pid != os.getpid()
    assert done.wait(60), "the child did not end"
    assert finished == [run] and run.result is not None and run.result.exit_code == 1
    assert (run.result.error_line or "").startswith("error: no store at")  # reads create none
    assert run.summary() == run.result.error_line


def test_sessions_are_adopted_by_the_owner_pid(workspace: Workspace) -> None:
    commands = runner(workspace)
    parsed = commands.parse("scan")
    run = CommandRun(1, "scan", parsed, started_epoch=time.time())
    commands._unadopted[1] = run  # a child known to the runner, as `start` records it
    run.process = cast(subprocess.Popen[bytes], SimpleNamespace(pid=4242))
    started = format_ts(time.time())
    other = SessionRecord(session_id="A" * 26, command="scan", pid=4343, started_at=started)
    older = SessionRecord(session_id="B" * 26, command="scan", pid=4242,
                          started_at=format_ts(time.time() - 3600))
    mine = SessionRecord(session_id="C" * 26, command="scan", pid=4242, started_at=started)
    assert commands.adopt_sessions([other, older]) == []
    assert commands.adopt_sessions([other, older, mine]) == [run]
    assert run.session_id == "C" * 26
    assert commands.adopt_sessions([mine]) == []  # adopted once


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
