"""What the content browser shows, read from the engine's tree and frame stores.

`read_workspace_tree` loads the scanned tree with, for one frame type, which nodes have
current context (a head for their node id) and each directory's coverage of its subtree.
`read_node_frames` loads one node's frames: the head, the path's frame history (for the diff
against the previous frame) and every agent with frames for it. `frame_diff` is that diff.
Both run on worker threads; neither creates a database in a store that has none. No Textual.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from contextree.engine.generation.frames import Frame, FrameStore
from contextree.engine.generation.read import ContextView, changed_on_disk
from contextree.engine.store import EngineStore
from contextree.engine.workspace.layout import Workspace
from contextree.engine.workspace.tree import DIRECTORY, ROOT, NodeRecord, TreeStore


@dataclass
class WorkspaceTree:
    """The scanned tree and one frame type's coverage of it."""

    frame_type: str
    records: dict[str, NodeRecord] = field(default_factory=dict)
    children: dict[str, list[str]] = field(default_factory=dict)
    """A directory's child paths: directories first, then files, each by name."""
    covered: set[str] = field(default_factory=set)
    """Paths whose current node version has a head of `frame_type`."""
    coverage: dict[str, tuple[int, int]] = field(default_factory=dict)
    """A directory's `(covered, total)` over itself and every node beneath it."""
    frame_types: list[str] = field(default_factory=list)
    """Every frame type with at least one head in the store."""

    @property
    def scanned(self) -> bool:
        return ROOT in self.records


@dataclass
class NodeFrames(ContextView):
    """One node's frames for one agent (head, history, changed on disk — a `ContextView`),
    and which agents have frames for it."""

    agents: list[tuple[str, str]] = field(default_factory=list)
    """`(agent id, frame type)` of every agent with a frame for this path, sorted."""

    @property
    def previous(self) -> Frame | None:
        """The frame of this path written before the one shown, if any."""
        frame = self.frame
        if frame is None:
            return None
        ids = [item.frame_id for item in self.history]
        if frame.frame_id not in ids:
            return self.history[-1] if self.history else None
        index = ids.index(frame.frame_id)
        return self.history[index - 1] if index > 0 else None


def read_workspace_tree(store: EngineStore, frame_type: str) -> WorkspaceTree:
    """The stored tree and `frame_type`'s coverage (an empty tree before the first scan)."""
    tree = WorkspaceTree(frame_type)
    stored = TreeStore.open_existing(store)
    if stored is None:
        return tree
    records = stored.load_records()
    tree.records = records
    by_id = {record.id: record for record in records.values()}
    for record in records.values():
        if record.type == DIRECTORY:
            kids = [by_id[child] for child in record.children if child in by_id]
            kids.sort(key=lambda kid: (kid.type != DIRECTORY, kid.name))
            tree.children[record.path] = [kid.path for kid in kids]
    frames = FrameStore.open_existing(store)
    if frames is not None:
        tree.covered = {by_id[node_id].path for node_id in frames.with_head(by_id, frame_type)}
        tree.frame_types = frames.frame_types()
    _fill_coverage(tree)
    return tree


def _fill_coverage(tree: WorkspaceTree) -> None:
    totals: dict[str, list[int]] = {}
    for path in sorted(tree.records, key=lambda item: -_depth(item)):
        own = [1 if path in tree.covered else 0, 1]
        for child in tree.children.get(path, ()):
            covered, total = totals.get(child, (0, 0))
            own[0] += covered
            own[1] += total
        totals[path] = own
    tree.coverage = {path: (counts[0], counts[1]) for path, counts in totals.items()
                     if path in tree.children}


def _depth(path: str) -> int:
    return -1 if path == ROOT else path.count("/")


def read_node_frames(workspace: Workspace | None, store: EngineStore, path: str,
                     agent_id: str, frame_type: str, *,
                     frame_types: list[str] | None = None) -> NodeFrames | None:
    """The frames of the node at `path`, for `agent_id` / `frame_type`; None if the node is
    not in the tree (any more). `frame_types` (every type in the store) spares a scan."""
    stored = TreeStore.open_existing(store)
    record = stored.node_at(path) if stored is not None else None
    if record is None:
        return None
    changed = changed_on_disk(workspace.root, record) if workspace is not None else False
    view = NodeFrames(record, agent_id, frame_type, head=None, changed_on_disk=changed)
    frames = FrameStore.open_existing(store)
    if frames is None:
        return view
    view.head = frames.head(record.id, frame_type)
    view.history = frames.history(record.path, frame_type)
    types = frame_types if frame_types is not None else frames.frame_types()
    view.agents = sorted(_agents_with_frames(frames, record, {*types, frame_type}))
    if view.frame is not None and view.frame.agent_id != agent_id:
        view.agent_id = view.frame.agent_id
    return view


def _agents_with_frames(frames: FrameStore, record: NodeRecord,
                        frame_types: set[str]) -> set[tuple[str, str]]:
    found = set()
    for frame_type in frame_types:
        head = frames.head(record.id, frame_type)
        newest = head if head is not None else _newest(frames.history(record.path, frame_type))
        if newest is not None:
            found.add((newest.agent_id, frame_type))
    return found


def _newest(history: list[Frame]) -> Frame | None:
    return history[-1] if history else None


def frame_diff(previous: Frame, current: Frame) -> list[str]:
    """A unified diff of two frames' content, with a header naming both frames."""
    return list(difflib.unified_diff(
        previous.content.splitlines(), current.content.splitlines(),
        fromfile=f"frame {previous.frame_id[:12]} · {previous.created_at}",
        tofile=f"frame {current.frame_id[:12]} · {current.created_at}", lineterm="", n=2,
    ))
