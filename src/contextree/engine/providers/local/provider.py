"""The built-in `local` provider: offline, keyless, deterministic summaries.

It reads a node the way a careful person skims it — a Python file through its syntax tree,
other code through definition patterns, data through its keys, a binary by its name and size,
a directory through the first sentence of each child's frame — and writes the same markdown
for the same request, byte for byte. Token counts are estimates (four characters a token).
"""

from __future__ import annotations

import asyncio
from collections import Counter

from contextree.engine.providers.base import (
    ChildSummary,
    GenerationRequest,
    GenerationResponse,
    ProviderConfig,
)
from contextree.engine.providers.local.languages import (
    BINARY_KINDS,
    PLAIN_TEXT,
    binary_kind,
    detect_language,
    extension_of,
)
from contextree.engine.providers.local.python import summarize_python
from contextree.engine.providers.local.summary import (
    Summary,
    capped,
    code,
    count_lines,
    frame_purpose,
    plural,
    render_summary,
)
from contextree.engine.providers.local.text import summarize_text
from contextree.sizes import format_bytes

MAX_CHILDREN_LISTED = 100
NO_CONTEXT = "*(no context yet)*"


class LocalProvider:
    """Summarizes nodes from their structure, without a network or a key."""

    def __init__(self, config: ProviderConfig) -> None:
        self.name = config.name
        self.type = config.type
        self.model = config.model

    def __repr__(self) -> str:
        return f"LocalProvider(name={self.name!r}, model={self.model!r})"

    async def generate(self, request: GenerationRequest) -> GenerationResponse:
        content = await asyncio.to_thread(describe, request)
        return GenerationResponse(
            content=content,
            model=self.model,
            input_tokens=estimate_tokens(request.system_prompt + request.user_prompt),
            output_tokens=estimate_tokens(content),
        )

    async def aclose(self) -> None:
        return None


def estimate_tokens(text: str) -> int:
    """About four characters a token, rounded up."""
    return (len(text) + 3) // 4


def describe(request: GenerationRequest) -> str:
    """The markdown frame for `request`; a pure function of it."""
    if request.node_type == "directory":
        summary = summarize_directory(request.path, request.children)
    elif request.is_binary:
        summary = summarize_binary(request.path, request.file_size)
    else:
        summary = summarize_file(request)
    return render_summary(request.path, summary)


def summarize_file(request: GenerationRequest) -> Summary:
    """A text file, by its language."""
    language = detect_language(request.path) or PLAIN_TEXT
    text = request.file_text
    size = format_bytes(request.file_size)
    if text is None:
        return Summary(
            purpose=f"{language.name} file of {size} whose content was not available.",
            facts=[language.name, size],
        )
    if not text.strip():
        summary = Summary(purpose=f"Empty {language.name} file.")
    elif language.family == "python":
        summary = summarize_python(request.path, text)
    else:
        summary = summarize_text(text, language)
    lines = count_lines(text)
    line_fact = f"first {plural(lines, 'line')} read (truncated)" if request.truncated else None
    summary.facts[:0] = [language.name, line_fact or plural(lines, "line"), size]
    return summary


def summarize_binary(path: str, size: int) -> Summary:
    """A binary file, by its name and size only."""
    kind = binary_kind(path)
    summary = Summary(
        purpose=f"Binary file: {kind}, {format_bytes(size)}.",
        facts=["binary", format_bytes(size)],
    )
    summary.add("Note", ["Binary content is described from the file name and size, not read."])
    return summary


def summarize_directory(path: str, children: tuple[ChildSummary, ...]) -> Summary:
    """A directory, from its children's frames."""
    ordered = sorted(children, key=lambda child: (child.node_type != "directory", child.name))
    directories = [child for child in ordered if child.node_type == "directory"]
    files = [child for child in ordered if child.node_type != "directory"]
    kinds = _kind_counts(files)
    summary = Summary(purpose=_directory_purpose(path, files, directories, kinds))
    summary.facts = [plural(len(files), "file"), plural(len(directories), "subdirectory",
                                                        "subdirectories")]
    if kinds:
        summary.facts.append(", ".join(f"{kind} {count}" for kind, count in kinds))
    summary.add("Subdirectories", _child_lines(directories, suffix="/"))
    summary.add("Files", _child_lines(files, suffix=""))
    missing = [child.name + ("/" if child.node_type == "directory" else "") for child in ordered
               if child.content is None]
    if missing:
        names = ", ".join(code(name) for name in missing[:MAX_CHILDREN_LISTED])
        more = f" and {len(missing) - MAX_CHILDREN_LISTED} more" if len(missing) > 100 else ""
        summary.add("Missing context", [f"No context yet for {names}{more}."])
    return summary


def _kind_counts(files: list[ChildSummary]) -> list[tuple[str, int]]:
    """`(kind, count)` of the files, most common first, ties by name."""
    counts = Counter(_file_kind(child.name) for child in files)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def _file_kind(name: str) -> str:
    language = detect_language(name)
    if language is not None:
        return language.name
    return "binary" if extension_of(name) in BINARY_KINDS else "other"


def _directory_purpose(
    path: str,
    files: list[ChildSummary],
    directories: list[ChildSummary],
    kinds: list[tuple[str, int]],
) -> str:
    readme = next(
        (child for child in files if child.name.lower().startswith("readme") and child.content),
        None,
    )
    if readme is not None and readme.content is not None:
        readme_purpose = frame_purpose(readme.content)
        if readme_purpose:
            return readme_purpose
    if not files and not directories:
        return "Empty directory."
    if any(child.name == "__init__.py" for child in files):
        label = "Python package"
    else:
        label = "Workspace root" if path == "." else "Directory"
    parts = []
    if files:
        breakdown = ", ".join(f"{count} {kind}" for kind, count in kinds[:3])
        parts.append(f"{plural(len(files), 'file')} ({breakdown})")
    if directories:
        parts.append(plural(len(directories), "subdirectory", "subdirectories"))
    return f"{label} with {' and '.join(parts)}."


def _child_lines(children: list[ChildSummary], *, suffix: str) -> list[str]:
    lines = []
    for child in children:
        if child.content is None:
            description = NO_CONTEXT
        else:
            description = frame_purpose(child.content) or "*(context without a summary line)*"
        lines.append(f"- {code(child.name + suffix)} — {description}")
    return capped(lines, MAX_CHILDREN_LISTED)
