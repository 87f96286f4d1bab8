"""`ctree sessions diff` through the real entry point on two real generate runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contextree.cli.app import run


@pytest.fixture
def two_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workspace generated twice, `src/a.py` edited in between."""
    monkeypatch.delenv("CTREE_STORE", raising=False)
    monkeypatch.setenv("CTREE_HOME", str(tmp_path / "home"))
    root = tmp_path / "ws"
    (root / "src").mkdir(parents=True)
    (root / "src" / "a.py").write_text("print(1)\n")
    (root / "src" / "b.py").write_text("x = 2\n")
    assert run(["-C", str(root), "context", "generate"]) == 0
    (root / "src" / "a.py").write_text("print(3)\n")
    assert run(["-C", str(root), "context", "generate"]) == 0
    return root


def diff(capsys: pytest.CaptureFixture[str], root: Path, *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = run(["-C", str(root), "sessions", "diff", *args])
    out, err = capsys.readouterr()
    return code, out + err


def test_the_edited_file_and_its_parents_are_new_the_rest_up_to_date(
    two_runs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = diff(capsys, two_runs, "last~1", "last", "--json")
    assert code == 0
    report = json.loads(out)
    nodes = {node["path"]: node for node in report["nodes"]}
    edited = nodes["src/a.py"]
    assert (edited["a"]["outcome"], edited["b"]["outcome"]) == ("generated", "generated")
    assert edited["file_changed"] and edited["content_changed"]
    assert edited["a"]["frame_id"] != edited["b"]["frame_id"]
    same = nodes["src/b.py"]
    assert (same["a"]["outcome"], same["b"]["outcome"]) == ("generated", "up to date")
    assert not same["file_changed"] and not same["content_changed"]
    assert same["deltas"]["tokens"] == -same["a"]["tokens"] < 0
    summary = report["summary"]
    assert summary["outcome_changes"] == {"generated → up to date": 1}
    assert summary["content_changed"] == 3  # src/a.py, src and the root
    assert summary["tokens"]["a"] == sum(node["a"]["tokens"] for node in report["nodes"])


def test_text_lists_only_differing_nodes_unless_all(
    two_runs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = diff(capsys, two_runs, "last", "last")
    assert code == 0 and "4 nodes, 0 differ" in out and "src/a.py" not in out
    code, out = diff(capsys, two_runs, "last", "last", "--all")
    assert "src/a.py: up to date → up to date" not in out
    assert "src/a.py: generated → generated" in out
    code, out = diff(capsys, two_runs, "last~1", "last")
    assert "src/b.py: generated → up to date" in out
    assert "src/a.py: generated → generated  (file changed, content changed" in out


def test_a_reference_past_the_oldest_is_refused(
    two_runs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = diff(capsys, two_runs, "last~2", "last")
    assert code == 1 and "only 2 generating sessions" in out
