"""The event catalog is the one source of event names: the project's own code emits only its
constants, and every constant it names exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from contextree.progress.catalog import EVENT_CATALOG, EventType
from contextree.progress.event import check_type_name

SRC = Path(__file__).resolve().parents[2] / "src" / "contextree"
SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
EMIT_NAMES = re.compile(r"^_?emit(_\w+)?$|^_add_event$|^assemble_event$")
"""Calls that name an event type: `emit`, the engine's `_emit*` wrappers, and the ingestor's
own writes (`_add_event`, `assemble_event`)."""


def _called_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    if isinstance(call.func, ast.Name):
        return call.func.id
    return None


def _source_trees() -> list[tuple[Path, ast.AST]]:
    paths = sorted(SRC.rglob("*.py"))
    assert paths
    return [(path, ast.parse(path.read_text(encoding="utf-8"))) for path in paths]


def literal_event_names(tree: ast.AST) -> list[tuple[int, str]]:
    """Snake_case string literals passed to a call that emits an event."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and EMIT_NAMES.match(_called_name(node) or ""):
            for arg in node.args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str) \
                        and SNAKE_CASE.match(arg.value):
                    found.append((node.lineno, arg.value))
    return found


def event_type_members_named(tree: ast.AST) -> list[tuple[int, str]]:
    """Every `EventType.NAME` the code refers to."""
    return [
        (node.lineno, node.attr) for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
        and node.value.id == "EventType"
    ]


def test_the_project_emits_catalog_constants_not_string_literals() -> None:
    offenders = [
        f"{path.relative_to(SRC)}:{line} emits {name!r}"
        + ("" if name in EVENT_CATALOG else " (not in the catalog)")
        for path, tree in _source_trees() for line, name in literal_event_names(tree)
    ]
    assert offenders == []


def test_every_event_type_the_code_names_is_catalogued() -> None:
    offenders = [
        f"{path.relative_to(SRC)}:{line} names EventType.{attr}"
        for path, tree in _source_trees() for line, attr in event_type_members_named(tree)
        if attr not in EventType.__members__
    ]
    assert offenders == []


def test_the_scan_finds_a_misspelt_literal_emit() -> None:
    tree = ast.parse(
        'session.emit("scan_startd", {})\n'
        'self._emit(job, rid, "request_enqueued", priority=1)\n'
        'emitter.emit(EventType.SCAN_STARTED, {"path": "x"})\n'
        'other("scan_started")\n'
    )
    assert literal_event_names(tree) == [(1, "scan_startd"), (2, "request_enqueued")]
    assert event_type_members_named(tree) == [(3, "SCAN_STARTED")]


def test_the_enum_and_the_catalog_name_the_same_types() -> None:
    assert set(EVENT_CATALOG) == set(EventType)
    for event_type in EventType:
        assert event_type.value == event_type.name.lower()
        check_type_name(event_type)
    assert EventType.CONTEXT_READ_SUMMARY in EVENT_CATALOG  # reserved, never reused
