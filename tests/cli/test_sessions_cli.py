"""`ctree init` and `ctree sessions …` through the real entry point."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from contextree.cli.app import run
from contextree.progress import ProgressRuntime
from contextree.progress.event import format_ts
from contextree.progress.session import SessionMeta, SessionRecord
from contextree.progress.store import encode_meta, encode_record


def ctree(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    return root


def test_init_runs_as_a_session_and_sessions_list_shows_it(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = ctree(capsys, "-C", str(workspace), "init")
    assert code == 0 and "initialised" in out
    assert (workspace / ".ctree" / "config.toml").is_file()
    assert (workspace / ".ctree" / ".gitignore").read_text() == "*\n"
    assert (workspace / ".ctree" / "store").stat().st_mode & 0o777 == 0o700
    code, out, _ = ctree(capsys, "-C", str(workspace), "sessions", "list", "--json")
    (row,) = json.loads(out)
    assert row["command"] == "init" and row["status"] == "completed"
    assert {"session_id", "started_at", "ended_at", "duration_ms", "event_count"} <= set(row)
    assert row["event_count"] == 3


def test_events_replay_and_show_by_prefix_and_last(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ctree(capsys, "-C", str(workspace), "init")
    with ProgressRuntime.open(workspace / ".ctree" / "store") as runtime, \
            runtime.session("context.generate") as session:
        session.emit("plan_constructed", {"plan_id": "p", "total_nodes": 1, "total_levels": 1})
        session.emit("node_generation_failed", {"path": "a.py", "error": "boom"})
    sid = session.session_id
    code, out, _ = ctree(capsys, "-C", str(workspace), "sessions", "events", sid[:20])
    lines = out.splitlines()
    assert code == 0 and [json.loads(line)["seq"] for line in lines] == [1, 2, 3, 4]
    with ProgressRuntime.open(workspace / ".ctree" / "store") as runtime:
        stored = [raw for _, raw in runtime.store.read_raw_events(sid)]
    assert [line.encode() for line in lines] == stored, "events print exactly as stored"
    code, out, _ = ctree(capsys, "-C", str(workspace), "sessions", "events", "last", "--after", "2")
    assert [json.loads(line)["seq"] for line in out.splitlines()] == [3, 4]
    code, out, _ = ctree(capsys, "-C", str(workspace), "sessions", "replay", "last", "--json")
    state = json.loads(out)
    assert state["nodes"]["a.py"]["status"] == "failed" and state["status"] == "completed"
    assert state["nodes"]["a.py"]["error"] == "boom"
    code, out, _ = ctree(capsys, "-C", str(workspace), "sessions", "show", sid.lower()[:22])
    assert code == 0 and sid in out and "context.generate" in out


def test_follow_streams_until_the_session_ends(workspace: Path) -> None:
    store = workspace / ".ctree" / "store"
    with ProgressRuntime.open(store) as runtime:
        session = runtime.session("test.live")
        follower = subprocess.Popen(
            [sys.executable, "-m", "contextree", "-C", str(workspace), "sessions", "events",
             session.session_id, "--follow"], stdout=subprocess.PIPE, text=True)
        assert follower.stdout is not None
        first = json.loads(follower.stdout.readline())
        assert first["type"] == "session_started"
        for index in range(20):
            session.emit("queue_stats", {"n": index})
        session.end()
        rest = [json.loads(line) for line in follower.stdout]
    assert follower.wait(30) == 0
    assert [e["seq"] for e in rest] == list(range(2, 23)) and rest[-1]["type"] == "session_ended"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sessions", "show", "NOPE"], "no session matches 'NOPE' — run `ctree sessions list`"),
        (["sessions", "prune", "--max-age", "soon"], "bad duration 'soon'"),
        (["sessions", "events", "last", "--after", "x"], "is not a valid integer"),
        (["sessions", "frobnicate"], "No such command"),
    ],
)
def test_bad_input_is_one_line_exit_1(
    workspace: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    ctree(capsys, "-C", str(workspace), "init")
    code, _, err = ctree(capsys, "-C", str(workspace), *args)
    assert code == 1 and message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_a_missing_store_or_workspace_is_one_line_exit_1(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = ctree(capsys, "-C", str(workspace), "sessions", "list")
    assert code == 1
    assert err == "error: no contextree workspace here or in any parent — run `ctree init`\n"
    assert not (workspace / ".ctree").exists(), "a read-only command creates nothing"
    (workspace / ".ctree").mkdir()  # a workspace without its store
    code, _, err = ctree(capsys, "-C", str(workspace), "sessions", "list")
    assert code == 1 and err.startswith("error: no store at") and "ctree init" in err
    assert not (workspace / ".ctree" / "store").exists()
    code, _, err = ctree(capsys, "-C", str(workspace / "missing"), "sessions", "list")
    assert code == 1 and "does not exist" in err and len(err.splitlines()) == 1


def test_delete_refuses_an_active_session_and_prune_spares_it(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ctree(capsys, "-C", str(workspace), "init")
    with ProgressRuntime.open(workspace / ".ctree" / "store") as runtime:
        active = runtime.session("test.active")
        code, _, err = ctree(capsys, "-C", str(workspace), "sessions", "delete",
                             active.session_id)
        assert code == 1 and "still running" in err
        code, out, _ = ctree(capsys, "-C", str(workspace), "sessions", "prune", "--max-count",
                             "0", "--json")
        result = json.loads(out)
        assert active.session_id not in result["removed"] and len(result["removed"]) == 1
        active.end()
    code, out, _ = ctree(capsys, "-C", str(workspace), "sessions", "delete", active.session_id)
    assert code == 0 and "deleted" in out


@pytest.mark.parametrize(
    ("raised", "code", "message"),
    [
        (OSError(28, "No space left on device", "/ws/.ctree/store/data.mdb"), 1,
         "error: no space left on device (/ws/.ctree/store/data.mdb) — free disk space and rerun"),
        (PermissionError(13, "Permission denied", "/ws/.ctree"), 1,
         "error: permission denied (/ws/.ctree) — check the path's owner and permissions"),
        (KeyboardInterrupt(), 130, "error: cancelled"),
    ],
)
def test_os_errors_and_ctrl_c_reach_the_user_as_one_line(
    workspace: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    raised: BaseException, code: int, message: str,
) -> None:
    import contextree.cli.sessions as sessions_cli

    def fail(cli: object) -> None:
        raise raised

    monkeypatch.setattr(sessions_cli, "open_store_readonly", fail)
    exit_code, _, err = ctree(capsys, "-C", str(workspace), "sessions", "list")
    assert exit_code == code
    assert err.strip() == message


def test_prune_removes_old_interrupted_sessions_only_when_asked(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ctree(capsys, "-C", str(workspace), "init")
    now = time.time()
    ids = {"old": "01JABANDONED00000000000000", "recent": "01JRECENTLYGONE00000000000"}
    with ProgressRuntime.open(workspace / ".ctree" / "store") as runtime:
        store = runtime.store
        for name, seen_days_ago in (("old", 40), ("recent", 2)):
            seen = format_ts(now - seen_days_ago * 86400)
            record = SessionRecord(session_id=ids[name], command="scan", pid=4242,
                                   host="elsewhere.example", started_at=seen,
                                   pid_ns="pid:[1]", boot_id="another-boot")
            meta = SessionMeta(next_seq=2, last_ts=seen, heartbeat_at=seen)
            key = ids[name].encode()

            def write(txn: Any, record: SessionRecord = record, meta: SessionMeta = meta,
                      key: bytes = key) -> None:
                txn.put(key, encode_record(record), db=store.sessions_db)
                txn.put(key, encode_meta(meta), db=store.meta_db)

            store.write(write)
    code, out, _ = ctree(capsys, "-C", str(workspace), "sessions", "list", "--json")
    statuses = {row["session_id"]: row["status"] for row in json.loads(out)}
    assert statuses[ids["old"]] == statuses[ids["recent"]] == "interrupted"
    code, out, _ = ctree(capsys, "-C", str(workspace), "sessions", "prune", "--max-age", "30d",
                         "--json")
    assert code == 0 and not set(ids.values()) & set(json.loads(out)["removed"])
    code, out, _ = ctree(capsys, "-C", str(workspace), "sessions", "prune", "--interrupted",
                         "--max-age", "30d", "--json")
    assert code == 0 and json.loads(out)["removed"] == [ids["old"]]
    code, out, _ = ctree(capsys, "-C", str(workspace), "sessions", "list", "--json")
    remaining = {row["session_id"] for row in json.loads(out)}
    assert ids["recent"] in remaining and ids["old"] not in remaining


def test_show_prints_provider_tokens_and_errors_as_text_not_markup(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ctree(capsys, "-C", str(workspace), "init")
    error = "set the key in [providers.fake] of config.toml"
    with ProgressRuntime.open(workspace / ".ctree" / "store") as runtime, \
            runtime.session("context.generate") as session:
        session.emit("provider_request_sent", {"path": "a.py", "attempt": 1})
        session.emit("provider_response_received", {"path": "a.py", "duration_ms": 12,
                                                    "input_tokens": 120, "output_tokens": 34})
        session.emit("provider_request_sent", {"path": "b.py", "attempt": 1})
        session.emit("provider_request_failed", {"path": "b.py", "error": error})
        session.end("failed", error)
    code, out, _ = ctree(capsys, "-C", str(workspace), "sessions", "show", "last")
    assert code == 0
    assert "2 requests, 0 retries, 1 failed" in out
    assert "120 in / 34 out" in out
    assert "[providers.fake]" in out, "a bracketed name is printed, not read as markup"
