"""The local provider on directories: purpose, key modules first, subpackages, entry points."""

from __future__ import annotations

from contextree.engine.providers.base import ChildSummary, GenerationRequest
from contextree.engine.providers.local.provider import describe


def directory_frame(path: str, children: list[ChildSummary]) -> str:
    return describe(GenerationRequest(
        path=path, node_type="directory", system_prompt="", user_prompt="", file_text=None,
        file_size=0, is_binary=False, truncated=False, children=tuple(children),
    ))


def child(name: str, frame: str | None, node_type: str = "file") -> ChildSummary:
    return ChildSummary(name, f"pkg/{name}", node_type, frame)


def py_frame(name: str, purpose: str, body: str = "") -> str:
    return f"# `pkg/{name}`\n\n{purpose}\n\nPython · 10 lines · 1 KB\n{body}"


def test_package_purpose_comes_from_the_init_docstring_before_the_readme() -> None:
    frame = directory_frame("pkg", [
        child("__init__.py", py_frame("__init__.py", "Parses changelogs. More.")),
        child("README.md", "# `pkg/README.md`\n\nThe readme says this.\n"),
    ])

    assert frame.splitlines()[2] == "Parses changelogs."
    assert "Python package · 2 files" in frame


def test_a_made_up_init_purpose_gives_way_to_the_readme() -> None:
    frame = directory_frame("pkg", [
        child("__init__.py", py_frame("__init__.py", "Python module defining function `f`.")),
        child("README.md", "# `pkg/README.md`\n\nThe readme says this.\n"),
    ])

    assert frame.splitlines()[2] == "The readme says this."


def test_key_modules_come_first_by_the_size_of_their_frames() -> None:
    frame = directory_frame("pkg", [
        child("_private.py", py_frame("_private.py", "Internals.", "x" * 900)),
        child("alpha.py", py_frame("alpha.py", "Small.")),
        child("core.py", py_frame("core.py", "The core.", "## Classes\n\n" + "- y\n" * 50)),
        child("test_core.py", py_frame("test_core.py", "Tests.", "z" * 900)),
    ])

    files = frame[frame.index("## Files"):]
    order = [files.index(f"`{name}`") for name in
             ("core.py", "alpha.py", "_private.py", "test_core.py")]
    assert order == sorted(order)


def test_subpackages_are_told_from_plain_subdirectories() -> None:
    frame = directory_frame("pkg", [
        child("sub", "# `pkg/sub`\n\nSub things.\n\nPython package · 2 files\n", "directory"),
        child("data", "# `pkg/data`\n\nSample data.\n\n3 files · 0 subdirectories\n",
              "directory"),
    ])

    assert "## Subpackages\n\n- `sub/` — Sub things.\n" in frame
    assert "## Subdirectories\n\n- `data/` — Sample data.\n" in frame


def test_entry_points_are_gathered_from_children_but_not_demo_blocks() -> None:
    main = py_frame("__main__.py", "Runs it.", "\n## Entry point\n\nRuns as `python -m pkg`.\n")
    demo = py_frame("box.py", "Boxes.",
                    "\n## Entry point\n\nAlso runs directly: `if __name__ == ...` → `x()`.\n")
    nested = ("# `pkg/cli`\n\nThe CLI.\n\n## Entry points\n\n"
              "- `tool.py`: Runs as a script: `main()`.\n")

    frame = directory_frame("pkg", [
        child("__main__.py", main), child("box.py", demo), child("cli", nested, "directory"),
    ])

    assert "- `__main__.py`: Runs as `python -m pkg`.\n" in frame
    assert "- `cli/tool.py`: Runs as a script: `main()`.\n" in frame
    assert "box.py`:" not in frame


def test_names_with_newlines_or_bad_bytes_are_escaped_and_listed() -> None:
    frame = directory_frame("pkg", [
        child("new\nline.txt", "# `pkg/new\\nline.txt`\n\nHello.\n"),
        child("bad\udcffname.txt", None, "left-out"),
    ])

    assert "- `new\\nline.txt` — Hello.\n" in frame
    assert "- `bad\\xffname.txt` — not in the tree: its name is not valid UTF-8\n" in frame
    assert all("\udcff" not in line for line in frame.splitlines())
