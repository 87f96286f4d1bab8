"""Layers point one way: the TUI and the CLI → engine → progress. The lower layers never
import the upper ones, nor Textual or click; the TUI never imports the CLI (it runs `ctree`
commands as child processes); the shared modules import no layer; and the README's layout
lists exactly the packages the code has."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "contextree"
SHARED_MODULES = ("durations.py", "errors.py", "secrets.py", "sizes.py")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _offenders(files: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{path.relative_to(SRC)} imports {name}"
        for path in files for name in _imports(path)
        if any(name == bad or name.startswith(bad + ".") for bad in forbidden)
    ]


@pytest.mark.parametrize(("layer", "forbidden"), [
    ("progress", ("textual", "click", "contextree.engine", "contextree.tui", "contextree.cli")),
    ("engine", ("textual", "click", "contextree.tui", "contextree.cli")),
    ("export", ("textual", "click", "contextree.tui", "contextree.cli")),
    ("tui", ("contextree.cli",)),
])
def test_lower_layers_do_not_import_upper_ones(layer: str, forbidden: tuple[str, ...]) -> None:
    files = sorted((SRC / layer).rglob("*.py"))
    assert files
    assert _offenders(files, forbidden) == []


def test_shared_modules_import_no_layer() -> None:
    files = [SRC / name for name in SHARED_MODULES]
    layers = ("textual", "click", "contextree.progress", "contextree.engine", "contextree.tui",
              "contextree.cli")
    assert _offenders(files, layers) == []


def test_the_offender_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("from contextree.cli.app import run\nimport textual.app\n")
    assert _imports(module) == {"contextree.cli.app", "textual.app"}


def readme_packages() -> set[str]:
    """The package paths in the README's layout tree (`name/` entries, nested by indent)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Layout\n.*?```text\n(.*?)```", text, re.S)
    assert block, "the README has a Layout section with a ```text tree"
    packages: set[str] = set()
    stack: list[tuple[int, str]] = []
    for line in block.group(1).splitlines():
        found = re.search(r"([a-z_]+(?:/[a-z_]+)*)/", line)
        if not found:
            continue
        depth, name = found.start(), found.group(1).rpartition("/")[2]
        while stack and stack[-1][0] >= depth:
            stack.pop()
        packages.add("/".join([*(parent for _, parent in stack), name]))
        stack.append((depth, name))
    return packages


def test_the_readme_layout_lists_every_package() -> None:
    code = {
        str(init.parent.relative_to(SRC.parent)) for init in SRC.rglob("__init__.py")
    }
    assert readme_packages() == code
