"""Reading context back: a node's head frame, its history, and coverage per agent.

`read_context` finds the node at a path in the stored tree and its head frame for an agent.
When the node has no head, the newest older frame of the same path is still offered, marked
outdated; a file whose size, mtime or inode differ from the scanned record is flagged
`changed_on_disk` (its context describes the last scanned version). `coverage_source` gives
`ctree status` the share of nodes each agent has current context for.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contextree.engine.generation.agents import Agent, list_agents
from contextree.engine.generation.frames import Frame, FrameStore
from contextree.engine.store import EngineStore
from contextree.engine.workspace.config import Config
from contextree.engine.workspace.layout import Workspace, require_utf8
from contextree.engine.workspace.status import AgentCoverage
from contextree.engine.workspace.tree import FILE, ROOT, NodeRecord, TreeStore
from contextree.errors import UsageError, WorkspaceError


@dataclass
class ContextView:
    """What is known about one node's context for one agent."""

    record: NodeRecord
    agent_id: str
    frame_type: str
    head: Frame | None
    history: list[Frame] = field(default_factory=list)
    changed_on_disk: bool = False

    @property
    def frame(self) -> Frame | None:
        """The frame to show: the head, else the newest frame of an earlier version."""
        if self.head is not None:
            return self.head
        return self.history[-1] if self.history else None

    @property
    def outdated(self) -> bool:
        """The frame shown describes another version of the node than the scanned one."""
        return self.head is None and bool(self.history)

    @property
    def head_index(self) -> int | None:
        """Where the head's generation is in `history`: the newest entry of the head frame
        (an earlier entry with the same text is an older generation), or None."""
        if self.head is None:
            return None
        matches = [index for index, frame in enumerate(self.history)
                   if frame.frame_id == self.head.frame_id]
        return matches[-1] if matches else None

    def to_json(self, *, with_history: bool) -> dict[str, Any]:
        frame = self.frame
        data: dict[str, Any] = {
            "path": self.record.path, "node_id": self.record.id, "node_type": self.record.type,
            "agent_id": self.agent_id, "frame_type": self.frame_type,
            "current": self.head is not None and not self.changed_on_disk,
            "outdated": self.outdated, "changed_on_disk": self.changed_on_disk,
            "frame": _frame_json(frame, self.record.id) if frame is not None else None,
        }
        if with_history:
            head_index = self.head_index
            data["history"] = [{**_frame_json(item, self.record.id), "head": index == head_index}
                               for index, item in enumerate(self.history)]
        return data


def _frame_json(frame: Frame, current_node_id: str) -> dict[str, Any]:
    return {
        "frame_id": frame.frame_id, "node_id": frame.node_id,
        "for_current_version": frame.node_id == current_node_id,
        "agent_id": frame.agent_id, "frame_type": frame.frame_type,
        "provider_name": frame.provider_name, "provider_type": frame.provider_type,
        "model": frame.model, "input_tokens": frame.input_tokens,
        "output_tokens": frame.output_tokens, "created_at": frame.created_at,
        "session_id": frame.session_id, "content": frame.content,
    }


def workspace_relative(workspace: Workspace, path: str) -> str:
    """`path` (absolute or relative to the workspace) as a workspace-relative POSIX path;
    unlike `Workspace.relative_path`, a path deleted since the scan is allowed."""
    if path in ("", "."):
        return ROOT
    full = Path(os.path.normpath(workspace.root / Path(path)))
    if not full.is_relative_to(workspace.root):
        raise WorkspaceError(
            f"{path} is outside the workspace {workspace.root} — pass a path inside it, "
            "or choose the workspace with -C"
        )
    return require_utf8(full.relative_to(workspace.root).as_posix() or ROOT)


def read_context(
    workspace: Workspace, store: EngineStore, path: str, agent: Agent
) -> ContextView:
    """The context of the node at `path` written by `agent` (a read: creates nothing)."""
    relative = workspace_relative(workspace, path)
    tree = TreeStore.open_existing(store)
    record = tree.node_at(relative) if tree is not None else None
    if record is None:
        exists = os.path.lexists(workspace.root / relative)
        hint = ("run `ctree context generate` (or `ctree scan`) first" if exists
                else "it does not exist in the workspace")
        raise UsageError(f"{relative} is not in the tree — {hint}")
    frames = FrameStore.open_existing(store)
    return ContextView(
        record=record,
        agent_id=agent.id,
        frame_type=agent.frame_type,
        head=frames.head(record.id, agent.frame_type) if frames is not None else None,
        history=frames.history(record.path, agent.frame_type) if frames is not None else [],
        changed_on_disk=changed_on_disk(workspace.root, record),
    )


def changed_on_disk(root: Path, record: NodeRecord) -> bool:
    """Whether the file's size, mtime or inode differ from its scanned record."""
    if record.type != FILE:
        return False
    try:
        info = os.stat(root / record.path)
    except OSError:
        return True
    return (info.st_size, info.st_mtime_ns, info.st_ino) != (
        record.size, record.mtime_ns, record.inode
    )


def coverage_source(
    store: EngineStore, config: Config
) -> Callable[[Mapping[str, NodeRecord]], dict[str, AgentCoverage]]:
    """For `workspace_status`: each configured agent's coverage of the current tree (a read:
    before the first frame is written, every agent covers nothing)."""
    frames = FrameStore.open_existing(store)

    def coverage(records: Mapping[str, NodeRecord]) -> dict[str, AgentCoverage]:
        ids = [record.id for record in records.values()]
        result = {}
        for agent in list_agents(config):
            covered, total = frames.coverage(ids, agent.frame_type) if frames is not None \
                else (0, len(ids))
            result[agent.id] = AgentCoverage(covered=covered, total=total)
        return result

    return coverage
