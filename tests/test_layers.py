"""Layers point one way: tui → engine → progress. The lower layers never import Textual."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "contextree"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize(("layer", "forbidden"), [
    ("progress", ("textual", "contextree.engine", "contextree.tui", "contextree.cli")),
    ("engine", ("textual", "contextree.tui", "contextree.cli")),
])
def test_lower_layers_do_not_import_upper_ones(layer: str, forbidden: tuple[str, ...]) -> None:
    files = sorted((SRC / layer).rglob("*.py"))
    assert files
    offenders = [
        f"{path.relative_to(SRC)} imports {name}"
        for path in files for name in _imports(path)
        if any(name == bad or name.startswith(bad + ".") for bad in forbidden)
    ]
    assert offenders == []
