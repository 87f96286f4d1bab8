"""Summarizing a directory from its children's frames.

The purpose is what the directory says about itself — the first sentence of its
`__init__.py` docstring, else of its README — and only when neither says anything, a count
of what it holds. Then the children as an annotated list, each with the first sentence of
its frame: key modules first (public code, biggest frames first), then the rest by name;
subpackages and subdirectories; entry points gathered from the children's frames
(`__main__.py`, scripts, `main` functions, console scripts of a `pyproject.toml`, and those
of subdirectories one level down); and which children have no frame yet.
"""

from __future__ import annotations

from collections import Counter

from contextree.engine.providers.base import LEFT_OUT, ChildSummary
from contextree.engine.providers.local.languages import (
    BINARY_KINDS,
    detect_language,
    extension_of,
    stem_of,
)
from contextree.engine.providers.local.summary import (
    DEMO_ENTRY,
    ENTRY_POINT_SECTION,
    ENTRY_POINTS_SECTION,
    SCRIPTS_SECTION,
    Summary,
    capped,
    code,
    escaped,
    frame_purpose,
    frame_section,
    is_derived_purpose,
    plural,
)

MAX_CHILDREN_LISTED = 100
MAX_ENTRY_POINTS = 30
NO_CONTEXT = "*(no context yet)*"
PACKAGE_LABEL = "Python package"
_CODE_FAMILIES = frozenset({"python", "js", "go", "rust", "jvm", "c", "ruby", "php", "shell",
                            "lua", "perl"})
_TEST_PREFIXES = ("test_", "tests", "conftest")


def summarize_directory(path: str, children: tuple[ChildSummary, ...]) -> Summary:
    """A directory, from its children's frames."""
    listed = [child for child in children if child.node_type != LEFT_OUT]
    ordered = sorted(listed, key=lambda child: child.name)
    directories = [child for child in ordered if child.node_type == "directory"]
    files = [child for child in ordered if child.node_type != "directory"]
    is_package = any(child.name == "__init__.py" for child in files)
    kinds = _kind_counts(files)
    summary = Summary(purpose=_purpose(path, files, directories, kinds, is_package))
    summary.facts = [plural(len(files), "file"),
                     plural(len(directories), "subdirectory", "subdirectories")]
    if is_package:
        summary.facts.insert(0, PACKAGE_LABEL)
    if kinds:
        summary.facts.append(", ".join(f"{kind} {count}" for kind, count in kinds))
    packages = [child for child in directories if _is_package_frame(child)]
    others = [child for child in directories if child not in packages]
    summary.add("Subpackages", _child_lines(packages, suffix="/"))
    summary.add("Subdirectories", _child_lines(others, suffix="/"))
    summary.add("Files", _child_lines(_key_first(files), suffix=""))
    summary.add(ENTRY_POINTS_SECTION, capped(_entry_points(files, directories), MAX_ENTRY_POINTS))
    summary.add("Left out", _left_out_lines(children))
    summary.add("Missing context", _missing_lines(ordered))
    return summary


def _purpose(
    path: str,
    files: list[ChildSummary],
    directories: list[ChildSummary],
    kinds: list[tuple[str, int]],
    is_package: bool,
) -> str:
    for child in _self_descriptions(files):
        purpose = frame_purpose(child.content or "")
        if purpose and not is_derived_purpose(purpose):
            return purpose
    if not files and not directories:
        return "Empty directory."
    label = PACKAGE_LABEL if is_package else ("Workspace root" if path == "." else "Directory")
    parts = []
    if files:
        breakdown = ", ".join(f"{count} {kind}" for kind, count in kinds[:3])
        parts.append(f"{plural(len(files), 'file')} ({breakdown})")
    if directories:
        parts.append(plural(len(directories), "subdirectory", "subdirectories"))
    return f"{label} with {' and '.join(parts)}."


def _self_descriptions(files: list[ChildSummary]) -> list[ChildSummary]:
    """The children that describe the directory itself: `__init__.py`, then READMEs."""
    init = [child for child in files if child.name == "__init__.py" and child.content]
    readmes = [child for child in files
               if child.name.lower().startswith("readme") and child.content]
    return init + readmes


def _is_package_frame(child: ChildSummary) -> bool:
    return child.content is not None and f"\n{PACKAGE_LABEL} · " in child.content


def _key_first(files: list[ChildSummary]) -> list[ChildSummary]:
    """Public code files with the biggest frames first, then everything else by name."""
    key = [child for child in files if _is_key(child)]
    key.sort(key=lambda child: (-len(child.content or ""), child.name))
    return key + [child for child in files if not _is_key(child)]


def _is_key(child: ChildSummary) -> bool:
    if child.content is None or child.name.startswith(("_", ".", *_TEST_PREFIXES)):
        return False
    if stem_of(child.name).endswith("_test"):
        return False
    language = detect_language(child.name)
    return language is not None and language.family in _CODE_FAMILIES


def _child_lines(children: list[ChildSummary], *, suffix: str) -> list[str]:
    lines = []
    for child in children:
        if child.content is None:
            description = NO_CONTEXT
        else:
            description = frame_purpose(child.content) or "*(context without a summary line)*"
        lines.append(f"- {code(escaped(child.name) + suffix)} — {description}")
    return capped(lines, MAX_CHILDREN_LISTED)


def _entry_points(files: list[ChildSummary], directories: list[ChildSummary]) -> list[str]:
    lines = []
    for child in files:
        if child.content is None:
            continue
        for line in frame_section(child.content, ENTRY_POINT_SECTION)[:1]:
            if not line.startswith(DEMO_ENTRY):
                lines.append(f"- {code(escaped(child.name))}: {line.lstrip('- ')}")
        scripts = frame_section(child.content, SCRIPTS_SECTION)
        lines += [f"- {code(escaped(child.name))}: {line.lstrip('- ')}" for line in scripts]
    for directory in directories:
        nested = frame_section(directory.content or "", ENTRY_POINTS_SECTION)
        prefix = escaped(directory.name) + "/"
        lines += [_nested_entry(line, prefix) for line in nested if line.startswith("- `")]
    return lines


def _nested_entry(line: str, prefix: str) -> str:
    """A subdirectory's entry-point line with the subdirectory's name before the child's."""
    fence = "``" if line.startswith("- ``") else "`"
    head = f"- {fence}"
    padding = " " if line.startswith(head + " ") else ""
    return head + padding + prefix + line[len(head) + len(padding) :]


def _left_out_lines(children: tuple[ChildSummary, ...]) -> list[str]:
    left_out = sorted(child.name for child in children if child.node_type == LEFT_OUT)
    return capped([f"- {code(escaped(name))} — not in the tree: its name is not valid UTF-8"
                   for name in left_out], MAX_CHILDREN_LISTED)


def _missing_lines(ordered: list[ChildSummary]) -> list[str]:
    missing = [escaped(child.name) + ("/" if child.node_type == "directory" else "")
               for child in ordered if child.content is None]
    if not missing:
        return []
    names = ", ".join(code(name) for name in missing[:MAX_CHILDREN_LISTED])
    extra = len(missing) - MAX_CHILDREN_LISTED
    more = f" and {extra} more" if extra > 0 else ""
    return [f"No context yet for {names}{more}."]


def _kind_counts(files: list[ChildSummary]) -> list[tuple[str, int]]:
    """`(kind, count)` of the files, most common first, ties by name."""
    counts = Counter(_file_kind(child.name) for child in files)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def _file_kind(name: str) -> str:
    language = detect_language(name)
    if language is not None:
        return language.name
    return "binary" if extension_of(name) in BINARY_KINDS else "other"
