"""The built-in `local` provider: offline, keyless, deterministic summaries.

It reads a node the way a careful person skims it — a Python file through its syntax tree,
other code through definition patterns, data through its keys, a binary by its name and size,
a directory through the first sentence of each child's frame — and writes the same markdown
for the same request, byte for byte. Token counts are estimates (four characters a token).
"""

from __future__ import annotations

import asyncio
import re

from contextree.engine.providers.base import (
    GenerationRequest,
    GenerationResponse,
    ProviderConfig,
)
from contextree.engine.providers.local.binary import detect_format
from contextree.engine.providers.local.directory import summarize_directory
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
    count_lines,
    plural,
    render_summary,
)
from contextree.engine.providers.local.text import summarize_text
from contextree.sizes import format_bytes

_COUNT_FACT = re.compile(r"^\d[\d,]* [a-z]+$")


class LocalProvider:
    """Summarizes nodes from their structure, without a network or a key."""

    def __init__(self, config: ProviderConfig) -> None:
        self.name = config.name
        self.type = config.type
        self.model = config.model

    def __repr__(self) -> str:
        return f"LocalProvider(name={self.name!r}, model={self.model!r})"

    async def generate(self, request: GenerationRequest) -> GenerationResponse:
        return await asyncio.to_thread(self.generate_now, request)

    def generate_now(self, request: GenerationRequest) -> GenerationResponse:
        """The response at once (the queue's direct path, see `InProcessProvider`)."""
        content = describe(request)
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
        summary = summarize_binary(request.path, request.file_size, request.binary_head)
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
    if request.truncated:
        summary.facts = [_of_part_read(fact) for fact in summary.facts]
        read = format_bytes(len(text.encode("utf-8", "surrogatepass")))
        summary.add("Note", [f"Only the first {read} of {size} was read: counts, lists and "
                             "outlines cover that part."])
    line_fact = f"first {plural(lines, 'line')} read (truncated)" if request.truncated else None
    summary.facts[:0] = [language.name, line_fact or plural(lines, "line"), size]
    return summary


def summarize_binary(path: str, size: int, head: bytes = b"") -> Summary:
    """A binary file, by the signature in its first bytes (by its name when they are not
    available), and its size."""
    shown = format_bytes(size)
    summary = Summary(purpose="", facts=["binary", shown])
    if not head:
        summary.purpose = f"Binary file: {binary_kind(path)}, {shown}."
        summary.add("Note", ["Binary content is described from the file name and size, not read."])
        return summary
    kind = detect_format(head, path)
    if kind is not None:
        summary.purpose = f"Binary file: {kind}, {shown}."
        summary.add("Note", ["The format is told from the file's first bytes, not read further."])
        return summary
    summary.purpose = f"Binary data of {shown} in no recognised format."
    note = "Its first bytes match no known file signature"
    if extension_of(path) in BINARY_KINDS:
        note += f" (its `.{extension_of(path)}` extension usually means: {binary_kind(path)})"
    summary.add("Note", [note + "; the content is not read further."])
    return summary


def _of_part_read(fact: str) -> str:
    """A count fact (`39360 words`) marked as covering only the part of the file read."""
    return f"{fact} in the part read" if _COUNT_FACT.match(fact) else fact
