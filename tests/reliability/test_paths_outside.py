"""Paths that lead out of the workspace are refused: `..`, absolute paths elsewhere, symbolic
links pointing outside, and names that are not UTF-8.

Each goes to `ctree scan`, `ctree context generate` and `ctree context get`. The command
exits 1 with one `error:` line naming the path, or — `scan` of a link — succeeds and reports
the link as skipped because it points outside. Either way nothing from outside is read: the
outside file's text is nowhere in the store and no node lies behind a link out.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from tests.reliability.checker import check_engine
from tests.reliability.figures import report_figures
from tests.reliability.forked import run_cli

OUTSIDE_TEXT = "OUTSIDE-ONLY-7c1e9a"
COMMANDS = (["scan"], ["context", "generate"], ["context", "get"])
counted: Counter[str] = Counter()


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("paths")
    workspace, outside = root / "ws", root / "outside"
    (workspace / "src").mkdir(parents=True)
    outside.mkdir()
    (workspace / "src" / "inside.py").write_text("VALUE = 1\n", encoding="utf-8")
    (outside / "secret.py").write_text(f'TOKEN = "{OUTSIDE_TEXT}"\n', encoding="utf-8")
    (workspace / "linkdir").symlink_to(outside, target_is_directory=True)
    (workspace / "linkfile.py").symlink_to(outside / "secret.py")
    (workspace / "src" / "up.py").symlink_to(Path("..") / ".." / "outside" / "secret.py")
    os.close(os.open(os.fsencode(workspace / "src") + b"/bad\xffname.py", os.O_CREAT, 0o644))
    assert run_cli(["-C", str(workspace), "context", "generate"]).code == 0
    return workspace, outside


def _paths(workspace: Path, outside: Path) -> list[str]:
    return [
        "../outside", "../outside/secret.py", "src/../../outside/secret.py",
        str(outside), str(outside / "secret.py"), "/etc/passwd",
        "linkdir", "linkdir/secret.py", "linkfile.py", "src/up.py",
        os.fsdecode(b"src/bad\xffname.py"),
    ]


@pytest.fixture(scope="module", autouse=True)
def _print_counts() -> object:
    yield
    report_figures("paths out of the workspace", **counted)


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_paths_out_of_the_workspace_are_refused(layout: tuple[Path, Path],
                                                command: list[str]) -> None:
    workspace, outside = layout
    problems = []
    for path in _paths(workspace, outside):
        result = run_cli(["-C", str(workspace), *command, path])
        counted["runs"] += 1
        shown = f"{' '.join(command)} {path!r}"
        if result.code == 1 and len(result.error_lines) == 1 \
                and not result.error_lines[0].startswith("error: unexpected") \
                and "Traceback" not in result.stderr:
            counted["one_line_errors"] += 1
            continue
        is_link = path in ("linkdir", "linkdir/secret.py", "linkfile.py", "src/up.py")
        if command == ["scan"] and is_link and result.code == 0 \
                and "symlink points outside the workspace" in result.stdout:
            counted["links_skipped_by_scan"] += 1
            continue
        problems.append(f"{shown}: exit {result.code}: {result.stderr.strip()[-300:]}")
    assert problems == []
    data = (workspace / ".ctree" / "store" / "data.mdb").read_bytes()
    assert OUTSIDE_TEXT.encode() not in data, "a file outside the workspace was read"
    engine = check_engine(workspace / ".ctree" / "store")
    assert engine.violations == []


def test_nothing_behind_a_link_out_is_in_the_tree(layout: tuple[Path, Path]) -> None:
    workspace, _ = layout
    result = run_cli(["-C", str(workspace), "-v", "scan", "--force"])
    assert result.code == 0, result.stderr
    for link in ("linkdir", "linkfile.py", "src/up.py"):
        assert f"{link}: symlink points outside the workspace" in result.stdout
    assert "name is not valid UTF-8" in result.stdout
    status = run_cli(["-C", str(workspace), "status", "--json"])
    assert '"file_count": 1' in status.stdout, status.stdout
