"""The local provider on Python files: docstring, definitions, imports, entry point."""

from __future__ import annotations

import textwrap

from contextree.engine.providers.base import GenerationRequest
from contextree.engine.providers.local.provider import describe

PYTHON_MODULE = textwrap.dedent(
    '''\
    """Fetch release notes from a changelog. Used by the release script.

    The parser understands Keep a Changelog headings.
    """

    from __future__ import annotations

    import os
    import re
    from pathlib import Path

    import httpx

    from releaser.config import Settings
    from .util import slugify

    DEFAULT_BRANCH = "main"
    _PRIVATE_CACHE = {}


    class ChangelogError(ValueError):
        """The changelog cannot be parsed."""


    class Changelog:
        """A parsed changelog file."""

        def __init__(self, text: str) -> None:
            self.text = text

        def latest(self) -> str:
            return ""

        async def publish(self) -> None:
            pass


    def parse(path: Path, *, strict: bool = False) -> Changelog:
        """Read and parse the changelog at `path`.

        More detail nobody needs here.
        """
        return Changelog(path.read_text())


    async def fetch(url: str) -> bytes:
        return b""


    def _helper() -> None:
        pass


    if __name__ == "__main__":
        main()
    '''
)


def file_request(
    path: str,
    text: str | None,
    *,
    is_binary: bool = False,
    truncated: bool = False,
    size: int | None = None,
) -> GenerationRequest:
    return GenerationRequest(
        path=path,
        node_type="file",
        system_prompt="You write concise documentation.",
        user_prompt=f"Describe {path}.\n\n{text or ''}",
        file_text=text,
        file_size=size if size is not None else len((text or "").encode()),
        is_binary=is_binary,
        truncated=truncated,
    )



def test_python_frame_starts_with_heading_then_the_docstrings_first_sentence() -> None:
    frame = describe(file_request("releaser/notes.py", PYTHON_MODULE))

    lines = frame.splitlines()
    assert lines[0] == "# `releaser/notes.py`"
    assert lines[2] == "Fetch release notes from a changelog."
    assert lines[4] == "Python · 55 lines · 949 B"


def test_python_frame_lists_classes_with_methods_and_functions_with_signatures() -> None:
    frame = describe(file_request("releaser/notes.py", PYTHON_MODULE))

    assert "- `class ChangelogError(ValueError)` — The changelog cannot be parsed." in frame
    assert "- `class Changelog` — A parsed changelog file." in frame
    assert "  - `latest() -> str`\n  - `async publish() -> None`\n" in frame
    assert "__init__" not in frame
    assert (
        "- `def parse(path: Path, *, strict: bool=False) -> Changelog`"
        " — Read and parse the changelog at `path`." in frame
    )
    assert "- `async def fetch(url: str) -> bytes`\n" in frame
    assert "_helper" not in frame and "_PRIVATE_CACHE" not in frame
    assert "More detail nobody needs" not in frame


def test_python_frame_groups_imports_and_shows_constants_and_entry_point() -> None:
    frame = describe(file_request("releaser/notes.py", PYTHON_MODULE))

    assert "- Standard library: `os`, `re`, `pathlib`" in frame
    assert "- Third-party: `httpx`" in frame
    assert "- Local: `releaser.config`, `.util`" in frame
    assert "__future__" not in frame
    assert "- `DEFAULT_BRANCH = 'main'`" in frame
    assert "## Entry point" in frame and "`main()`" in frame


def test_python_without_docstring_gets_a_purpose_from_its_definitions() -> None:
    frame = describe(file_request("tools/run.py", "def go():\n    pass\n\nclass Job:\n    pass\n"))

    assert "Python module defining class `Job` and function `go`." in frame


def test_python_test_module_counts_its_tests() -> None:
    source = "def test_a():\n    pass\n\nclass TestB:\n    def test_c(self):\n        pass\n"

    frame = describe(file_request("tests/test_x.py", source))

    assert "· 2 tests" in frame


def test_python_that_does_not_parse_falls_back_to_patterns() -> None:
    source = (
        '"""Half-written parser."""\nimport os\n\nclass Node(Base):\n    pass\n\n'
        "def run(a, b=2) -> int:\n    return 1\n\nVALUES = (\n"
    )

    frame = describe(file_request("broken.py", source))

    assert "Half-written parser." in frame
    assert "does not parse (line 10" in frame
    assert "- `class Node`" in frame
    assert "- `def run(a, b=2) -> int`" in frame


def test_a_file_cut_inside_a_function_body_still_gets_its_outline() -> None:
    source = ('"""Half-written."""\nclass Node(Base):\n    pass\n\n'
              'def run(a) -> int:\n    return (\n')

    frame = describe(file_request("cut.py", source, truncated=True, size=9_000))

    assert "- `class Node(Base)`" in frame and "- `def run(a) -> int`" in frame
    assert "does not parse" not in frame and "first 6 lines read (truncated)" in frame


def test_truncated_file_says_how_much_was_read() -> None:
    frame = describe(file_request("big.py", "x = 1\ny = 2\n", truncated=True, size=90_000))

    assert "first 2 lines read (truncated)" in frame
    assert "87.9 KiB" in frame


def test_empty_file_is_called_empty() -> None:
    assert "Empty Python file." in describe(file_request("pkg/__init__.py", ""))


def python_frame(path: str, source: str) -> str:
    return describe(file_request(path, textwrap.dedent(source)))


def test_all_decides_the_public_surface_and_its_order() -> None:
    frame = python_frame("pkg/api.py", '''\
        """The API."""
        from .impl import Engine
        __all__ = ["run", "Engine", "Widget"]
        __all__ += ["LIMIT"]
        LIMIT = 3
        def helper():
            pass
        class Widget:
            pass
        def run():
            pass
        ''')

    assert frame.index("`class Widget`") < frame.index("`def run()`")
    assert "- `Engine` from `.impl`" in frame
    assert "- `LIMIT = 3`" in frame
    assert "- not in `__all__`: `helper`" in frame


def test_without_all_the_biggest_public_definitions_lead_and_private_ones_stay_out() -> None:
    frame = python_frame("pkg/mod.py", '''\
        class _Flavour:
            pass
        class Small:
            pass
        class Main:
            def a(self):
                pass
            def b(self):
                pass
        ''')

    assert frame.splitlines()[2] == "Python module defining classes `Main` and `Small`."
    assert "_Flavour" not in frame


def test_private_names_are_shown_when_nothing_is_public() -> None:
    frame = python_frame("pkg/_impl.py", "def _a():\n    pass\nclass _B:\n    pass\n")

    assert "- names: `_a`, `_B`" in frame


def test_properties_appear_once_and_many_methods_are_all_named() -> None:
    methods = "".join(f"    def m{index}(self):\n        pass\n" for index in range(40))
    source = (
        "class Console:\n"
        "    @property\n    def file(self) -> str:\n        return ''\n"
        "    @file.setter\n    def file(self, value: str) -> None:\n        pass\n"
        f"{methods}    def print(self, *objects: object) -> None:\n        pass\n"
    )

    frame = python_frame("console.py", source)

    assert "  - properties: `file`\n" in frame
    assert "`m39`, `print`" in frame and "more" not in frame


def test_licence_docstring_is_never_the_purpose() -> None:
    frame = python_frame("spin.py", '''\
        """
        Spinners are from:
        * cli-spinners:
            MIT License
            Copyright (c) Someone
            Permission is hereby granted, free of charge, to any person obtaining a copy
        """
        SPINNERS = {}
        ''')

    assert frame.splitlines()[2] == "Python module defining constant `SPINNERS`."
    assert "Permission" not in frame and "Copyright" not in frame


def test_licence_comment_header_is_skipped_for_the_next_comment() -> None:
    frame = python_frame("tool.py", "# Copyright 2020 ACME\n# All rights reserved.\n\n"
                         "# Helpers for the build.\nX = 1\n")

    assert frame.splitlines()[2] == "Helpers for the build."


def test_a_module_with_a_main_block_is_not_a_script_but_a_main_only_file_is() -> None:
    module = python_frame("lib.py", "class Api:\n    pass\nif __name__ == '__main__':\n    Api()\n")
    script = python_frame("tool.py",
                          "def main():\n    pass\nif __name__ == '__main__':\n    main()\n")

    assert "Python module defining class `Api`." in module
    assert 'Also runs directly: `if __name__ == "__main__"` → `Api()`.' in module
    assert "Python script defining function `main`." in script
    assert 'Runs as a script: `if __name__ == "__main__"` → `main()`.' in script


def test_overview_does_not_repeat_the_first_sentence() -> None:
    single = python_frame("d.py", '"""Implementation of JSONDecoder\n"""\n')
    longer = python_frame("e.py", '"""Reads data. Then writes it.\n\nUsage::\n\n    $ e\n"""\n')

    assert "## Overview" not in single
    assert "## Overview\n\nThen writes it.\n" in longer and "$ e" not in longer


def test_an_expression_too_deep_to_build_falls_back_to_patterns() -> None:
    source = '"""Generated tables."""\ndef lookup(key):\n    pass\n\nTOTAL = 1' + "+1" * 200_000

    frame = describe(file_request("tables.py", source))

    assert "Generated tables." in frame
    assert "does not parse (nested too deeply to parse)" in frame
    assert "- `def lookup(key)`" in frame
