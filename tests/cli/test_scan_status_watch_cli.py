"""`ctree scan`, `ctree status` and `ctree watch` through the real entry point."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import lmdb
import pytest

from contextree.cli.app import run
from contextree.engine.workspace.config import load_config
from contextree.engine.workspace.layout import resolve_workspace
from contextree.engine.workspace.scan import scan_workspace
from contextree.progress import Event, EventStore
from contextree.progress.follow import Follower

OLD = time.time() - 3600


class Sink:
    def emit(self, event_type: str, data: object = None, /) -> None:
        pass


def ctree(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def write(root: Path, relative: str, text: str, *, backdate: bool = True) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if backdate:
        os.utime(path, (OLD, OLD))


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    write(root, "src/app.py", "print('hi')\n")
    write(root, "README.md", "# readme\n")
    return root.resolve()


def sessions(workspace: Path) -> list[tuple[str, str, list[Event]]]:
    store = EventStore.open(workspace / ".ctree" / "store", create=False)
    try:
        return [
            (record.command, record.status, store.read_events(record.session_id))
            for record in store.list_sessions()
        ]
    finally:
        store.close()


def fresh_root_id(workspace: Path, tmp_path: Path) -> str:
    resolved = resolve_workspace(workspace, str(tmp_path / "reference"))
    env = lmdb.open(str(tmp_path / f"reference-{time.monotonic_ns()}"), max_dbs=8)
    try:
        result = scan_workspace(resolved, env, Sink(), config=load_config(resolved), force=True)
    finally:
        env.close()
    assert result.root_id is not None
    return result.root_id


# --- scan ---------------------------------------------------------------------------------


def test_scan_runs_as_a_session_with_scanner_events(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = ctree(capsys, "-C", str(workspace), "scan")
    assert code == 0  # the first scan where no workspace exists makes one, and says where
    assert err == f"created a contextree workspace: {workspace.resolve() / '.ctree'}\n"
    assert out.startswith("scanned 2 files, 2 directories") and "tree changed" in out
    ((command, status, events),) = sessions(workspace)
    assert (command, status) == ("scan", "completed")
    types = [event.type for event in events]
    assert types[0] == "session_started" and types[-2:] == ["command_summary", "session_ended"]
    assert types[1] == "scan_started" and "scan_progress" in types
    assert types.index("scan_completed") < types.index("command_summary")
    summary = events[-2].data
    assert summary["ok"] is True and summary["file_count"] == 2 and summary["changed"] is True


def test_rescan_and_force_json(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ctree(capsys, "-C", str(workspace), "scan")
    code, out, _ = ctree(capsys, "-C", str(workspace), "scan")
    assert code == 0 and "0 read" in out and "tree unchanged" in out
    code, out, _ = ctree(capsys, "-C", str(workspace), "scan", "--force", "--json")
    data = json.loads(out)
    assert code == 0 and data["files_rehashed"] == 2 and data["changed"] is False
    assert data["root"] == "." and len(data["root_id"]) == 64


def test_scan_of_a_subpath(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ctree(capsys, "-C", str(workspace), "scan")
    write(workspace, "src/app.py", "print('changed')\n")
    code, out, _ = ctree(capsys, "-C", str(workspace), "scan", "src")
    assert code == 0 and out.startswith("scanned src: 1 files") and "tree changed" in out


def test_scan_reports_skipped_entries(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workspace / "broken").symlink_to("nowhere")
    code, out, _ = ctree(capsys, "-C", str(workspace), "scan")
    assert code == 0 and "skipped 1:\n  broken: broken symlink" in out


@pytest.mark.parametrize(
    ("target", "message"),
    [("../outside", "is outside the workspace"), ("missing.py", "does not exist")],
)
def test_a_bad_path_fails_with_one_line_and_a_failed_session(
    workspace: Path, capsys: pytest.CaptureFixture[str], target: str, message: str
) -> None:
    ctree(capsys, "-C", str(workspace), "init")
    code, out, err = ctree(capsys, "-C", str(workspace), "scan", target)
    assert code == 1 and out == ""
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    ((command, status, events), _init) = sessions(workspace)
    assert (command, status) == ("scan", "failed")
    assert events[-1].type == "session_ended" and events[-1].data["status"] == "failed"
    assert message in events[-1].data["error"]
    assert events[-2].type == "command_summary" and events[-2].data["ok"] is False


def test_a_malformed_config_fails_the_scan_naming_the_line(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ctree(capsys, "-C", str(workspace), "init")
    (workspace / ".ctree" / "config.toml").write_text("[sessions]\nmax_age = 'soon'\n")
    code, _, err = ctree(capsys, "-C", str(workspace), "scan")
    assert code == 1 and "config.toml:2: sessions.max_age: bad duration 'soon'" in err


# --- status -------------------------------------------------------------------------------


def test_status_before_and_after_a_scan(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ctree(capsys, "-C", str(workspace), "init")
    code, out, _ = ctree(capsys, "-C", str(workspace), "status")
    assert code == 0 and "not scanned yet — run `ctree scan`" in out
    ctree(capsys, "-C", str(workspace), "scan")
    code, out, _ = ctree(capsys, "-C", str(workspace), "status")
    lines = dict(line.split(None, 1) for line in out.splitlines() if line.strip())
    assert lines["tree"].startswith("4 nodes (2 files, 2 directories)")
    assert lines["state"] == "up to date"
    assert lines["sessions"] == "2 (2 completed)"  # init and scan: a status records none


def test_status_json_shows_staleness(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ctree(capsys, "-C", str(workspace), "scan")
    write(workspace, "src/app.py", "print('edited')\n")
    code, out, _ = ctree(capsys, "-C", str(workspace), "status", "--json")
    data = json.loads(out)
    assert code == 0 and data["scanned"] is True and data["stale"] is True
    assert data["stale_paths"] == ["src/app.py"] and data["file_count"] == 2
    assert data["sessions"] == {"completed": 1} and data["last_scan_at"].endswith("Z")
    assert [command for command, _, _ in sessions(workspace)] == ["scan"]  # a read records none


# --- watch --------------------------------------------------------------------------------


def ctree_executable() -> list[str]:
    script = Path(sys.executable).with_name("ctree")
    return [str(script)] if script.exists() else [sys.executable, "-m", "contextree"]


@pytest.fixture
def watcher(workspace: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    process = subprocess.Popen(
        [*ctree_executable(), "-C", str(workspace), "watch", "--debounce-ms", "50"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert "session" in first, process.stderr.read() if process.stderr else first
        yield process, first.split("session ")[1].split()[0]
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)


def wait_for(
    follower: Follower, seen: list[Event], predicate: Callable[[Event], bool]
) -> Event:
    deadline = time.monotonic() + 30
    while True:
        for event in seen:
            if predicate(event):
                return event
        remaining = deadline - time.monotonic()
        if remaining <= 0 or follower.finished:
            stored = [event.type for event in follower.store.read_events(follower.session_id)]
            raise AssertionError(f"not seen; followed {[e.type for e in seen]}, stored {stored}")
        seen.extend(follower.wait(remaining))


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_watch_subprocess_follows_edits_and_stops_cleanly(
    workspace: Path,
    tmp_path: Path,
    watcher: tuple[subprocess.Popen[str], str],
    stop_signal: signal.Signals,
) -> None:
    process, session_id = watcher
    store = EventStore.open(workspace / ".ctree" / "store", create=False)
    try:
        follower, seen = Follower(store, session_id), []
        wait_for(follower, seen, lambda event: event.type == "scan_completed")
        write(workspace, "src/app.py", "print('edited')\n", backdate=False)
        write(workspace, "src/new.py", "x = 1\n", backdate=False)
        expected = fresh_root_id(workspace, tmp_path)
        wait_for(follower, seen, lambda e: e.type == "batch_processed"
                 and e.data["root_id"] == expected)
        changed = {e.data["path"]: e.data["change"] for e in seen if e.type == "file_changed"}
        assert changed == {"src/app.py": "modified", "src/new.py": "added"}
        process.send_signal(stop_signal)
        assert process.wait(20) == 0
        seen.extend(store.read_events(session_id, after_seq=seen[-1].seq))
    finally:
        store.close()
    stopped = [event for event in seen if event.type == "watch_stopped"]
    assert stopped[0].data == {"reason": f"signal {stop_signal.name}"}
    assert seen[-1].type == "session_ended" and seen[-1].data["status"] == "completed"
    assert [event.seq for event in seen] == list(range(1, len(seen) + 1))
    assert process.stdout is not None and "stopped (signal" in process.stdout.read()


def test_watch_generate_regenerates_changed_nodes_in_the_watch_session(
    workspace: Path,
) -> None:
    process = subprocess.Popen(
        [*ctree_executable(), "-C", str(workspace), "watch", "--generate", "--debounce-ms", "50"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert "session" in first, process.stderr.read() if process.stderr else first
        session_id = first.split("session ")[1].split()[0]
        store = EventStore.open(workspace / ".ctree" / "store", create=False)
        try:
            follower, seen = Follower(store, session_id), []
            wait_for(follower, seen, lambda event: event.type == "scan_completed")
            write(workspace, "src/app.py", "print('edited')\n", backdate=False)
            wait_for(follower, seen, lambda e: e.type == "node_generation_completed"
                     and e.data["path"] == ".")
            process.send_signal(signal.SIGINT)
            assert process.wait(20) == 0
            seen.extend(store.read_events(session_id, after_seq=seen[-1].seq))
        finally:
            store.close()
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)
    generated = {e.data["path"] for e in seen if e.type == "node_generation_completed"}
    assert generated == {"src/app.py", "src", "."}, "the changed file and its ancestors"
    assert any(e.type == "provider_response_received" for e in seen)
    assert seen[-1].type == "session_ended" and seen[-1].data["status"] == "completed"
