"""`ctree sessions events` filters through the real entry point, stored and followed live."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from contextree.cli.app import run
from contextree.progress import ProgressRuntime
from contextree.progress.event import decode_event
from contextree.progress.event_filter import EventFilter

WRITER = textwrap.dedent("""
    import sys, time
    from contextree.progress import ProgressRuntime
    store, total, rate = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    types = ("node_generation_started", "node_generation_completed", "node_generation_failed",
             "queue_stats")
    with ProgressRuntime.open(store) as runtime, runtime.session("context.generate") as session:
        session.emit("node_generation_started", {"path": "src/marker.py", "level_index": 1})
        runtime.flush(timeout=120)
        print(session.session_id, flush=True)
        sys.stdin.readline()  # go: the follower is streaming
        started = time.monotonic()
        for index in range(total):
            data = {"path": f"{('src', 'docs')[index % 2]}/f{index}.py", "level_index": index % 3}
            if index % 7 == 0:
                data["error"] = "boom"
            session.emit(types[index % 4], data)
            ahead = (index + 1) / rate - (time.monotonic() - started)
            if ahead > 0:
                time.sleep(ahead)  # pace the writer at `rate` events a second
""")
FILTER_ARGS = ("--type", "node_generation_started", "--type", "node_generation_failed",
               "--path", "src/*", "--level", "2")
FILTER = EventFilter(frozenset({"node_generation_started", "node_generation_failed"}),
                     "src/*", 1)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    assert run(["-C", str(root), "init"]) == 0
    return root


def ctree_events(capsys: pytest.CaptureFixture[str], root: Path, *args: str) -> list[str]:
    code = run(["-C", str(root), "sessions", "events", *args])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out.splitlines()


@pytest.mark.slow
def test_a_filtered_follow_misses_and_reorders_nothing_at_1000_events_a_second(
    workspace: Path, capsys: pytest.CaptureFixture[str], long_mode: bool
) -> None:
    total = 10_000 if long_mode else 2_000
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(workspace / ".ctree" / "store"), str(total), "1000"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert writer.stdin and writer.stdout
    session_id = writer.stdout.readline().strip()
    follower = subprocess.Popen(
        [sys.executable, "-m", "contextree", "-C", str(workspace), "sessions", "events",
         session_id, "--follow", *FILTER_ARGS], stdout=subprocess.PIPE, text=True)
    assert follower.stdout
    first = follower.stdout.readline()
    assert json.loads(first)["data"]["path"] == "src/marker.py"
    writer.stdin.write("go\n")
    writer.stdin.flush()
    followed = [first.rstrip("\n"), *follower.stdout.read().splitlines()]
    assert writer.wait(timeout=300) == 0 and follower.wait(timeout=300) == 0
    stored = ctree_events(capsys, workspace, session_id)
    expected = [line for line in stored if FILTER.matches(decode_event(line.encode()))]
    assert len(stored) == total + 3  # started, marker, the writes, ended
    assert len(expected) > total // 20
    assert followed == expected
    assert ctree_events(capsys, workspace, session_id, *FILTER_ARGS) == expected


def test_errors_filter_and_a_refused_type(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:


    with ProgressRuntime.open(workspace / ".ctree" / "store") as runtime, \
            runtime.session("context.generate") as session:
        session.emit("node_generation_failed", {"path": "a.py", "error": "boom"})
        session.emit("queue_stats", {"pending": 1})
    lines = ctree_events(capsys, workspace, session.session_id, "--errors")
    assert [json.loads(line)["type"] for line in lines] == ["node_generation_failed"]
    code = run(["-C", str(workspace), "sessions", "events", "last", "--type", "queue_stat"])
    assert code == 1 and "did you mean 'queue_stats'" in capsys.readouterr().err
