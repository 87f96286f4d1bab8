"""The skeleton the local provider parses: bodies blanked, lines and frames unchanged."""

from __future__ import annotations

import ast
import json
import pathlib
from pathlib import Path

import pytest
import rich
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.engine.providers.skeleton_reference import reference_skeleton

from contextree.engine.providers.local.python import summarize_module
from contextree.engine.providers.local.python_skeleton import skeleton
from contextree.engine.providers.local.summary import render_summary

CORPUS = [
    Path(json.__file__).parent / "decoder.py",
    Path(pathlib.__file__),
    Path(rich.__file__).parent / "console.py",
    Path(rich.__file__).parent / "progress.py",
]


def test_bodies_are_blanked_after_their_docstrings_and_lines_stay_in_place() -> None:
    source = (
        "def f(a,\n      b):\n    # note\n    '''Doc.'''\n    x = 1\n\n    return x\n\n"
        "class C:\n    def m(self): return 1\n    async def n(self) -> int:\n        y = 2\n"
        "        return y\n"
    )

    result = skeleton(source)

    assert result.count("\n") == source.count("\n")
    assert "x = 1" not in result and "y = 2" not in result
    assert "'''Doc.'''" in result and "def m(self): return 1" in result
    tree = ast.parse(result)
    function = tree.body[0]
    assert isinstance(function, ast.FunctionDef) and ast.get_docstring(function) == "Doc."
    assert function.end_lineno == ast.parse(source).body[0].end_lineno


def test_examples_in_the_module_docstring_are_left_alone() -> None:
    source = '"""Use it:\n\ndef example():\n    return 1\n"""\ndef g():\n    return 2\n'

    assert skeleton(source).startswith('"""Use it:\n\ndef example():\n    return 1\n"""')


@pytest.mark.parametrize("path", CORPUS, ids=lambda path: path.name)
def test_the_skeleton_gives_the_same_frame_as_the_whole_source(path: Path) -> None:
    text = path.read_text(encoding="utf-8")

    from_skeleton = summarize_module(path.name, text, ast.parse(skeleton(text)))
    from_source = summarize_module(path.name, text, ast.parse(text))

    assert render_summary(path.name, from_skeleton) == render_summary(path.name, from_source)
    nodes_parsed = sum(1 for _ in ast.walk(ast.parse(skeleton(text))))
    assert nodes_parsed < sum(1 for _ in ast.walk(ast.parse(text))) / 2


FRAGMENTS = ["def f(x):", "async def g(", "):", "    ", "  ", "\t", "\n", "\n", "# note",
             '"""', "'''", '"doc"', "x = 1", "return x", "class A:", ")", "]", ": # why",
             "\r\n", " ", "pass", "r'''", "def", "#", ":\n"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=40))
def test_the_skeleton_cuts_every_body_exactly_as_the_line_start_regexes_do(
    fragments: list[str],
) -> None:
    text = "".join(fragments)

    assert skeleton(text) == reference_skeleton(text)


@pytest.mark.parametrize("path", CORPUS, ids=lambda path: path.name)
def test_real_modules_are_cut_exactly_as_the_line_start_regexes_cut_them(path: Path) -> None:
    text = path.read_text(encoding="utf-8")

    assert skeleton(text) == reference_skeleton(text)


def test_trailing_comments_stay_a_def_on_the_first_line_is_cut_and_no_final_newline_is_kept(
) -> None:
    source = "def f():\n    x = 1\n    # kept\n\n\ndef g():\n    return 2"

    result = skeleton(source)

    assert result == "def f():\n    ...\n    # kept\n\n\ndef g():\n    ..."
    assert result == reference_skeleton(source)
