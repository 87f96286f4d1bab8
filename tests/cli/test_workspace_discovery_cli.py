"""Workspace discovery like git's, and reads that create nothing, through the real entry point.

Without `-C` the workspace is the nearest ancestor of the current directory holding `.ctree/`;
paths on the command line are relative to the current directory. `status`, `context get` and
`sessions list` create no `.ctree/`, no store and no session, and prune nothing; neither does
`sessions prune --dry-run`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contextree.cli.app import run
from contextree.progress import ProgressRuntime

NO_WORKSPACE_LINE = "error: no contextree workspace here or in any parent — run `ctree init`\n"


def ctree(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project with `mod.py` at its root and in `pkg/sub/`; not yet a workspace."""
    root = tmp_path / "project"
    (root / "pkg" / "sub").mkdir(parents=True)
    (root / "mod.py").write_text('"""The root module."""\n', encoding="utf-8")
    (root / "pkg" / "sub" / "mod.py").write_text('"""The nested module."""\n', encoding="utf-8")
    return root.resolve()


def session_commands(capsys: pytest.CaptureFixture[str]) -> list[str]:
    code, out, err = ctree(capsys, "sessions", "list", "--json")
    assert code == 0, err
    return [row["command"] for row in json.loads(out)]


def test_a_subfolder_uses_the_enclosing_workspace_and_its_own_paths(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    assert ctree(capsys, "context", "generate")[0] == 0
    monkeypatch.chdir(project / "pkg" / "sub")
    code, out, err = ctree(capsys, "context", "get", "mod.py")
    assert code == 0, err
    assert out.startswith("# `pkg/sub/mod.py`")
    code, out, _ = ctree(capsys, "context", "get", "../../mod.py")
    assert code == 0 and out.startswith("# `mod.py`")
    code, _, err = ctree(capsys, "scan", ".")
    assert code == 0 and err == ""
    assert not (project / "pkg" / "sub" / ".ctree").exists(), "a nested workspace was made"
    assert session_commands(capsys) == ["scan", "context.generate"]


def test_the_first_scan_with_no_workspace_above_makes_one_here_and_says_so(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    code, out, err = ctree(capsys, "scan")
    assert code == 0 and out.startswith("scanned 2 files")
    assert err == f"created a contextree workspace: {project / '.ctree'}\n"
    code, _, err = ctree(capsys, "scan")
    assert code == 0 and err == "", "only the first scan says it created the workspace"


def test_init_in_a_subfolder_makes_a_workspace_there_as_git_init_does(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    ctree(capsys, "init")
    monkeypatch.chdir(project / "pkg")
    code, out, _ = ctree(capsys, "init")
    assert code == 0 and out.startswith(f"initialised {project / 'pkg' / '.ctree'}")
    assert session_commands(capsys) == ["init"]  # the nested workspace's own store


@pytest.mark.parametrize("read", [["status"], ["status", "--json"], ["context", "get", "mod.py"],
                                  ["sessions", "list"], ["sessions", "show", "last"],
                                  ["sessions", "events", "last"]])
def test_a_read_outside_any_workspace_creates_nothing(
    read: list[str], project: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(project / "pkg")
    code, out, err = ctree(capsys, *read)
    assert (code, out, err) == (1, "", NO_WORKSPACE_LINE)
    assert not list(project.rglob(".ctree"))


def test_reads_record_no_session_and_prune_nothing_nor_does_a_dry_run(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    ctree(capsys, "scan")
    config = project / ".ctree" / "config.toml"
    config.write_text(config.read_text().replace("max_count = 500", "max_count = 1"))
    with ProgressRuntime.open(project / ".ctree" / "store") as runtime:
        for _ in range(3):
            with runtime.session("test.old"):
                pass
    before = session_commands(capsys)
    assert len(before) == 4
    for read in (["status"], ["context", "get", "mod.py", "--json"], ["sessions", "list"]):
        ctree(capsys, *read)
    assert session_commands(capsys) == before, "a read recorded or pruned a session"
    code, out, _ = ctree(capsys, "sessions", "prune", "--dry-run", "--json")
    assert code == 0 and len(json.loads(out)["removed"]) == 3
    assert session_commands(capsys) == ["sessions.prune", *before], "a dry run deleted"
