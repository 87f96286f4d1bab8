"""The quality check: frames of real code nobody here wrote, and what each must (not) say.

The corpus is taken at test time from the Python standard library and from `rich` (a
dependency of the project), so nothing is vendored. Each test states what a developer needs
from the frame — the names that matter, the package's own description — and what must never
be there: licence text, private names leading, a name listed twice.
"""

from __future__ import annotations

import json
import pathlib
import re
from pathlib import Path

import rich

from contextree.engine.providers.base import ChildSummary, GenerationRequest
from contextree.engine.providers.local.provider import describe

STDLIB = Path(pathlib.__file__).parent
JSON_PACKAGE = Path(json.__file__).parent
RICH_PACKAGE = Path(rich.__file__).parent
LICENCE_PHRASES = ("Permission is hereby granted", "Copyright (c)", "MIT License",
                   "WITHOUT WARRANTY")


def file_frame(path: Path, name: str) -> str:
    data = path.read_bytes()
    return describe(GenerationRequest(
        path=name, node_type="file", system_prompt="", user_prompt="",
        file_text=data.decode("utf-8", "replace"), file_size=len(data), is_binary=False,
        truncated=False,
    ))


def directory_frame(directory: Path, name: str, frames: dict[str, str] | None = None) -> str:
    """The frame of `directory` built the way generate builds it: children first (every
    frame made on the way goes into `frames`, by path)."""
    frames = {} if frames is None else frames
    children = []
    for entry in sorted(directory.iterdir()):
        if entry.name == "__pycache__":
            continue
        child_name = f"{name}/{entry.name}"
        if entry.is_dir():
            frame = directory_frame(entry, child_name, frames)
            children.append(ChildSummary(entry.name, child_name, "directory", frame))
        else:
            frames[child_name] = file_frame(entry, child_name)
            children.append(ChildSummary(entry.name, child_name, "file", frames[child_name]))
    frames[name] = describe(GenerationRequest(
        path=name, node_type="directory", system_prompt="", user_prompt="", file_text=None,
        file_size=0, is_binary=False, truncated=False, children=tuple(children),
    ))
    return frames[name]


def section(frame: str, title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n\n(.*?)(?=^## |\Z)", frame, re.S | re.M)
    return match.group(1) if match else ""


def listed_names(line: str) -> list[str]:
    return re.findall(r"`([^`]+)`", line)


def test_json_decoder_names_its_api_and_does_not_repeat_itself() -> None:
    frame = file_frame(JSON_PACKAGE / "decoder.py", "json/decoder.py")

    assert frame.splitlines()[2] == "Implementation of JSONDecoder."
    assert "`class JSONDecoder(object)`" in section(frame, "Classes")
    assert "`class JSONDecodeError(ValueError)`" in section(frame, "Exceptions")
    assert "decode(" in frame and "raw_decode(" in frame
    assert "## Overview" not in frame, "the docstring is one sentence: nothing to add"
    assert frame.count("`class JSONDecoder") == 1


def test_pathlib_leads_with_path_and_purepath_not_private_flavours() -> None:
    frame = file_frame(STDLIB / "pathlib.py", "pathlib.py")
    purpose = frame.splitlines()[2]

    assert "`PurePath`" in purpose
    assert "`class Path(PurePath)`" in section(frame, "Classes")
    assert "_Flavour" not in frame and "_Selector" not in frame
    methods = next(line for line in frame.splitlines()
                   if line.startswith("  - methods:") and "`iterdir`" in line)
    assert len(listed_names(methods)) == len(set(listed_names(methods)))


def test_json_directory_carries_the_package_docstring_and_names_its_modules() -> None:
    frame = directory_frame(JSON_PACKAGE, "json")
    first_sentence = json.__doc__.split("\n\n")[0].split(". ")[0].split(" is a subset")[0]

    assert frame.splitlines()[2].startswith(first_sentence)
    assert "Python package · " in frame
    for module in ("decoder", "encoder", "scanner"):
        assert f"- `{module}.py` — " in section(frame, "Files")
    assert "- `tool.py`: Runs as a script" in section(frame, "Entry points")
    assert "with 5 files" not in frame, "a package with a docstring is not described by counts"


def test_asyncio_directory_has_its_purpose_key_modules_first_and_python_m() -> None:
    frame = directory_frame(STDLIB / "asyncio", "asyncio")
    files = section(frame, "Files").splitlines()

    assert frame.splitlines()[2] == "The asyncio package, tracking PEP 3156."
    assert "`__main__.py`: Runs as `python -m asyncio`." in section(frame, "Entry points")
    key = files[:8]
    assert any("base_events.py" in line or "tasks.py" in line for line in key)
    assert not any(line.startswith("- `_") for line in key)


def test_rich_console_is_a_module_whose_print_method_is_named() -> None:
    frame = file_frame(RICH_PACKAGE / "console.py", "rich/console.py")
    classes = section(frame, "Classes")

    assert "Python script" not in frame
    assert frame.splitlines()[2].startswith("Python module defining classes `Console`")
    console = classes[classes.index("- `class Console`"):].split("\n- ")[0]
    assert "`print`" in console and "more" not in console
    properties = next(line for line in console.splitlines() if "properties:" in line)
    assert listed_names(properties).count("file") == 1


def test_a_licence_docstring_is_never_a_purpose() -> None:
    frame = file_frame(RICH_PACKAGE / "_spinners.py", "rich/_spinners.py")

    assert frame.splitlines()[2] == "Python module defining constant `SPINNERS`."
    for phrase in LICENCE_PHRASES:
        assert phrase not in frame


def test_no_frame_of_the_json_and_rich_packages_holds_licence_text() -> None:
    frames: dict[str, str] = {}
    directory_frame(JSON_PACKAGE, "json", frames)
    directory_frame(RICH_PACKAGE, "rich", frames)

    assert len(frames) > 80
    for path, frame in frames.items():
        for phrase in LICENCE_PHRASES:
            assert phrase not in frame, (path, phrase)


def test_frames_of_real_code_are_deterministic() -> None:
    assert directory_frame(JSON_PACKAGE, "json") == directory_frame(JSON_PACKAGE, "json")
