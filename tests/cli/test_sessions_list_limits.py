"""`ctree sessions list`: 50 rows by default with a line saying how many more, `--all`,
`--limit`, and `--json` returning everything unless `--limit` is given."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.support.synthetic_sessions import write_ended_sessions

from contextree.cli.app import run


@pytest.fixture
def workspace_with_60_sessions(tmp_path: Path) -> Path:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    write_ended_sessions(workspace / ".ctree" / "store", 60)
    return workspace


def _list(capsys: pytest.CaptureFixture[str], workspace: Path, *args: str) -> list[str]:
    assert run(["-C", str(workspace), "sessions", "list", *args]) == 0
    return capsys.readouterr().out.splitlines()


def test_the_table_shows_50_and_says_how_to_see_the_rest(
    workspace_with_60_sessions: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = _list(capsys, workspace_with_60_sessions)
    assert lines[0].split() == ["session", "started", "command", "duration", "status", "events"]
    assert len(lines) == 1 + 50 + 1
    assert lines[-1] == "… 10 more — run `ctree sessions list --all` to see them all, or --limit N"
    assert len(_list(capsys, workspace_with_60_sessions, "--all")) == 1 + 60
    limited = _list(capsys, workspace_with_60_sessions, "--limit", "5")
    assert len(limited) == 1 + 5 + 1 and limited[-1].startswith("… 55 more")


def test_json_returns_every_session_unless_limited(
    workspace_with_60_sessions: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (everything,) = _list(capsys, workspace_with_60_sessions, "--json")
    rows = json.loads(everything)
    assert len(rows) == 60 and rows[0]["started_at"] > rows[-1]["started_at"]
    assert all(row["event_count"] == 2 for row in rows)
    (limited,) = _list(capsys, workspace_with_60_sessions, "--json", "--limit", "7")
    assert [row["session_id"] for row in json.loads(limited)] == \
        [row["session_id"] for row in rows[:7]]
