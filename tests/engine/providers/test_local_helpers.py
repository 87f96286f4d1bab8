"""The local summarizer's building blocks: language table, sentences, sizes, robustness."""

from __future__ import annotations

from pathlib import PurePosixPath

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contextree.engine.providers.base import GenerationRequest
from contextree.engine.providers.local.languages import (
    binary_kind,
    detect_language,
    extension_of,
    file_name,
    stem_of,
)
from contextree.engine.providers.local.provider import describe
from contextree.engine.providers.local.summary import (
    first_sentence,
    frame_purpose,
    join_names,
)
from contextree.sizes import format_bytes


@pytest.mark.parametrize(
    ("path", "language", "family"),
    [
        ("a/b.py", "Python", "python"),
        ("x.tsx", "TypeScript", "js"),
        ("main.go", "Go", "go"),
        ("lib.rs", "Rust", "rust"),
        ("X.java", "Java", "jvm"),
        ("m.h", "C header", "c"),
        ("m.HPP", "C++ header", "c"),
        ("s.rb", "Ruby", "ruby"),
        ("run.sh", "Shell", "shell"),
        ("c.toml", "TOML", "toml"),
        ("c.yml", "YAML", "yaml"),
        ("d.json", "JSON", "json"),
        ("README.md", "Markdown", "markdown"),
        ("i.html", "HTML", "html"),
        ("s.css", "CSS", "css"),
        ("q.sql", "SQL", "sql"),
        ("Makefile", "Makefile", "make"),
        ("docker/Dockerfile.dev", "Dockerfile", "docker"),
        ("LICENSE", "License", "plain"),
    ],
)
def test_detect_language(path: str, language: str, family: str) -> None:
    detected = detect_language(path)

    assert detected is not None
    assert (detected.name, detected.family) == (language, family)


def test_unknown_extension_has_no_language() -> None:
    assert detect_language("data.qqq") is None


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("a.png", "PNG image"),
        ("a.tar", "TAR archive"),
        ("a.pdf", "PDF document"),
        ("a.pyc", "Python bytecode"),
        ("a.so", "compiled library or object file"),
        ("a", "binary data"),
    ],
)
def test_binary_kind(path: str, kind: str) -> None:
    assert binary_kind(path) == kind


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        ("Reads files. Then writes them.", "Reads files."),
        ("Handles e.g. tabs and\n  spaces well", "Handles e.g. tabs and spaces well."),
        ("Version 1.2 is used! Yes.", "Version 1.2 is used!"),
        ("", ""),
    ],
)
def test_first_sentence(text: str, sentence: str) -> None:
    assert first_sentence(text) == sentence


def test_first_sentence_is_bounded() -> None:
    assert len(first_sentence("word " * 200, limit=50)) <= 51


@pytest.mark.parametrize(
    ("frame", "purpose"),
    [
        ("# `a.py`\n\nParses things. Fast.\n", "Parses things."),
        ("# T\n\n## Purpose\n\n**Purpose:** Does [x](y) work.\n", "Does x work."),
        ("# T\n\n```\ncode here\n```\n\n- First bullet item\n", "First bullet item."),
        ("# T\n\n| a | b |\n---\n", ""),
    ],
)
def test_frame_purpose(frame: str, purpose: str) -> None:
    assert frame_purpose(frame) == purpose


@pytest.mark.parametrize(
    ("size", "text"),
    [(0, "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (5 * 1024 * 1024, "5.0 MiB")],
)
def test_sizes_read_in_binary_units(size: int, text: str) -> None:
    assert format_bytes(size) == text


def test_join_names() -> None:
    assert join_names(["a"]) == "`a`"
    assert join_names(["a", "b"]) == "`a` and `b`"
    assert join_names(["a", "b", "c", "d", "e"]) == "`a`, `b`, `c` and 2 more"


EXTENSIONS = ["py", "ts", "go", "rs", "java", "c", "rb", "sh", "sql", "css", "html", "md",
              "json", "toml", "yml", "ini", "txt", "qqq"]


@settings(max_examples=150, deadline=None)
@given(text=st.text(max_size=400), extension=st.sampled_from(EXTENSIONS),
       truncated=st.booleans())
def test_any_text_in_any_language_gives_a_frame(
    text: str, extension: str, truncated: bool
) -> None:
    request = GenerationRequest(
        path=f"dir/file.{extension}", node_type="file", system_prompt="", user_prompt="",
        file_text=text, file_size=len(text), is_binary=False, truncated=truncated,
    )

    frame = describe(request)

    assert frame.startswith(f"# `dir/file.{extension}`\n\n")
    assert frame.endswith("\n") and frame.splitlines()[2].strip()
    assert frame == describe(request)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="/.aB_\n", max_size=14))
def test_names_stems_and_extensions_read_a_path_as_pure_posix_path_does(path: str) -> None:
    posix = PurePosixPath(path)

    assert file_name(path) == posix.name
    assert stem_of(path) == posix.stem
    assert extension_of(path) == posix.suffix[1:].lower()
