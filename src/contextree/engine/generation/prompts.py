"""Building the request for one node: the agent's prompt plus what the node holds.

A file's prompt holds its text, truncated at `max_file_bytes` (`[limits]` in config.toml);
a binary file (a NUL byte in its first 8 KiB, or a known binary extension) is described by
name and size, never sent. The file is re-hashed while it is read, so a file edited since
the scan fails loudly instead of getting a frame for content it no longer has. A
directory's prompt holds its children's head frames within the same limit: each child gets
an equal share of what the children before it left (at least `MIN_CHILD_CHARS`); entries on
disk that the tree leaves out because their names are not UTF-8 are listed, escaped.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from blake3 import blake3

from contextree.engine.generation.agents import Agent, render_template
from contextree.engine.generation.frames import Frame
from contextree.engine.providers.base import LEFT_OUT, ChildSummary, GenerationRequest
from contextree.engine.providers.local.languages import BINARY_KINDS, extension_of
from contextree.engine.providers.local.summary import escaped
from contextree.engine.workspace.entries import valid_name
from contextree.engine.workspace.tree import DIRECTORY, NodeRecord, join_path
from contextree.errors import GenerationError

BINARY_SNIFF_BYTES = 8192
BINARY_HEAD_BYTES = 512
READ_CHUNK = 1 << 20
MIN_CHILD_CHARS = 200
_BACKTICKS = re.compile(r"`{3,}")


class FileChangedError(GenerationError):
    """The file on disk no longer matches the scanned node."""


def file_request(
    root: Path, record: NodeRecord, agent: Agent, *, max_file_bytes: int
) -> GenerationRequest:
    """The request for a file node, reading its text from under `root`."""
    head, truncated = read_checked(root / record.path, record, max_file_bytes)
    binary = is_binary(record.path, head)
    text = None if binary else decode_text(head, truncated)
    prompt = render_template(agent.file_prompt, path=record.path, node_type=record.type,
                             file_size=record.size)
    if binary:
        body = f"`{record.path}` is a binary file of {record.size} bytes; its content is not sent."
    else:
        assert text is not None
        note = f", truncated to the first {len(head)} bytes" if truncated else ""
        fence = _fence_for(text)
        body = f"File `{record.path}` ({record.size} bytes{note}):\n\n{fence}\n{text}\n{fence}"
    return GenerationRequest(
        path=record.path,
        node_type=record.type,
        system_prompt=agent.system_prompt,
        user_prompt=f"{prompt}\n\n{body}\n",
        file_text=text,
        file_size=record.size,
        is_binary=binary,
        truncated=truncated,
        binary_head=head[:BINARY_HEAD_BYTES] if binary else b"",
    )


def directory_request(
    record: NodeRecord,
    children: Sequence[NodeRecord],
    heads: Mapping[str, Frame],
    agent: Agent,
    *,
    max_prompt_chars: int,
    root: Path | None = None,
) -> GenerationRequest:
    """The request for a directory node from its children and their head frames (by id);
    with `root`, entries on disk whose names are not UTF-8 are listed too."""
    summaries: list[ChildSummary] = []
    sections: list[str] = []
    truncated = False
    remaining = max_prompt_chars
    for index, child in enumerate(children):
        frame = heads.get(child.id)
        content = frame.content if frame is not None else None
        summaries.append(ChildSummary(child.name, child.path, child.type, content))
        label = f"`{child.name}/` (directory)" if child.type == DIRECTORY else f"`{child.name}`"
        if content is None:
            sections.append(f"### {label}\n\n*(no context yet)*")
            continue
        share = max(MIN_CHILD_CHARS, remaining // (len(children) - index))
        if len(content) > share:
            content, truncated = content[:share] + "\n…", True
        remaining -= len(content)
        sections.append(f"### {label}\n\n{content.strip()}")
    for name in names_left_out(root / record.path) if root is not None else []:
        summaries.append(ChildSummary(name, join_path(record.path, name), LEFT_OUT, None))
        sections.append(f"### `{escaped(name)}`\n\n*(not in the tree: its name is not UTF-8)*")
    prompt = render_template(agent.directory_prompt, path=record.path, node_type=record.type,
                             file_size=record.size)
    listing = "\n\n".join(sections) if sections else "*(the directory is empty)*"
    body = f"Directory `{record.path}` has {len(children)} entries. Their context:\n\n{listing}"
    return GenerationRequest(
        path=record.path,
        node_type=record.type,
        system_prompt=agent.system_prompt,
        user_prompt=f"{prompt}\n\n{body}\n",
        file_text=None,
        file_size=record.size,
        is_binary=False,
        truncated=truncated,
        children=tuple(summaries),
    )


def names_left_out(directory: Path) -> list[str]:
    """The names in `directory` that are not valid UTF-8 (the scan leaves them out)."""
    try:
        with os.scandir(directory) as entries:
            return sorted(entry.name for entry in entries if not valid_name(entry.name))
    except OSError:
        return []


def read_checked(full: Path, record: NodeRecord, limit: int) -> tuple[bytes, bool]:
    """The first `limit` bytes of the file and whether it is longer; the whole file is
    hashed on the way, and a hash other than the scanned one is a `FileChangedError`."""
    hasher = blake3()
    kept = bytearray()
    total = 0
    try:
        with open(full, "rb") as stream:
            while chunk := stream.read(READ_CHUNK):
                hasher.update(chunk)
                if len(kept) < limit:
                    kept += chunk[: limit - len(kept)]
                total += len(chunk)
    except OSError as error:
        raise GenerationError(
            f"cannot read {record.path}: {error.strerror or error} — check its permissions"
        ) from None
    if record.content_hash is not None and hasher.hexdigest() != record.content_hash:
        raise FileChangedError(
            f"{record.path} changed after it was scanned — run `ctree context generate` again"
        )
    return bytes(kept), total > limit


def is_binary(path: str, head: bytes) -> bool:
    """A NUL byte in the first 8 KiB, or an extension only binary formats use."""
    return b"\0" in head[:BINARY_SNIFF_BYTES] or extension_of(path) in BINARY_KINDS


def decode_text(data: bytes, truncated: bool) -> str:
    """UTF-8 text; a character cut by truncation is dropped, other bad bytes replaced."""
    if truncated:
        for cut in range(min(4, len(data)) + 1):
            try:
                return data[: len(data) - cut].decode("utf-8")
            except UnicodeDecodeError as error:
                if error.start < len(data) - 4:
                    break
    return data.decode("utf-8", errors="replace")


def _fence_for(text: str) -> str:
    """Three backticks, or one more than the longest run of them in `text`."""
    if "```" not in text:  # nearly every file: a substring test is far cheaper than the scan
        return "```"
    longest = max(len(run) for run in _BACKTICKS.findall(text))
    return "`" * (longest + 1)

