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
    assert "  - methods: `__init__`, `latest`, `publish`" in frame
    assert (
        "- `def parse(path: Path, *, strict: bool=False) -> Changelog`"
        " — Read and parse the changelog at `path`." in frame
    )
    assert "- `async def fetch(url: str) -> bytes`\n" in frame
    assert "- private helpers: `_helper`" in frame
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
        "def run(a, b=2) -> int:\n    return (\n"
    )

    frame = describe(file_request("broken.py", source))

    assert "Half-written parser." in frame
    assert "does not parse (line 8" in frame
    assert "- `class Node`" in frame
    assert "- `def run(a, b=2) -> int`" in frame


def test_truncated_file_says_how_much_was_read() -> None:
    frame = describe(file_request("big.py", "x = 1\ny = 2\n", truncated=True, size=90_000))

    assert "first 2 lines read (truncated)" in frame
    assert "87.9 KiB" in frame


def test_empty_file_is_called_empty() -> None:
    assert "Empty Python file." in describe(file_request("pkg/__init__.py", ""))
