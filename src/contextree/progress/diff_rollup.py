"""A session diff as the lines people read: a summary, then the differing nodes by directory.

A directory whose whole subtree (itself included) differs in the same way — the same outcome
change and the same file/content/provider flags — is one `DiffEntry` with its node count and
summed deltas; any other directory with differing nodes is a heading, its differing files
listed under it by name, its subdirectories after them (as `ls -R` does). `--all` turns the
roll-up off and lists unchanged nodes too. The CLI prints `summary_lines` and `entry_line`;
the TUI renders the same entries with its own widgets.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from contextree.progress.diff import DELTAS, NodeDiff, SessionDiff

ROOT = "."
"""The workspace root's path in a generating session."""
FLAGS = ("file changed", "content changed", "provider changed")
Signature = tuple[str, str, bool, bool, bool]
"""How a node differs: outcome in A, in B, and the three `FLAGS`."""


@dataclass(frozen=True)
class DiffEntry:
    """One line of the node list: a node, a directory heading, or a rolled-up subtree."""

    path: str
    label: str
    """What the line starts with: `src/pkg/` for a directory, the name for a listed file."""
    depth: int
    """0 for a directory, 1 for a file listed under its directory."""
    change: str
    """`generated → up to date`; empty for a directory that is no node of either session."""
    flags: tuple[str, ...]
    deltas: dict[str, int]
    nodes: int = 1
    """How many nodes the line stands for: more than one for a rolled-up directory."""
    differs: bool = True

    @property
    def rolled_up(self) -> bool:
        return self.nodes > 1

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "nodes": self.nodes, "change": self.change,
                "flags": list(self.flags), "deltas": self.deltas, "differs": self.differs,
                "directory": self.depth == 0}


def signature(node: NodeDiff) -> Signature | None:
    """How `node` differs, or None if it does not."""
    if not node.differs:
        return None
    return (node.a.outcome, node.b.outcome, node.file_changed, node.content_changed,
            node.provider_changed)


def parent_of(path: str) -> str | None:
    if path == ROOT:
        return None
    return path.rsplit("/", 1)[0] if "/" in path else ROOT


class _Tree:
    """The paths of a diff as directories and their children, with what each subtree shares."""

    def __init__(self, diff: SessionDiff) -> None:
        self.nodes = {node.path: node for node in diff.nodes}
        self.children: dict[str, list[str]] = {}
        for path in sorted(self.nodes):
            child, parent = path, parent_of(path)
            while parent is not None and child not in self.children.get(parent, []):
                self.children.setdefault(parent, []).append(child)
                child, parent = parent, parent_of(parent)
        self._shared: dict[str, set[Signature | None]] = {}

    def is_directory(self, path: str) -> bool:
        return path in self.children

    def subtree(self, path: str) -> Iterator[NodeDiff]:
        if path in self.nodes:
            yield self.nodes[path]
        for child in self.children.get(path, []):
            yield from self.subtree(child)

    def signatures(self, path: str) -> set[Signature | None]:
        """Every way the nodes under `path` (itself included) differ; None for a node that
        does not."""
        if path not in self._shared:
            own = {signature(self.nodes[path])} if path in self.nodes else set()
            self._shared[path] = own.union(*(self.signatures(child)
                                             for child in self.children.get(path, [])))
        return self._shared[path]


def rolled_up(diff: SessionDiff, *, show_all: bool = False) -> list[DiffEntry]:
    """The node list: differing nodes grouped by directory, uniform subtrees as one line
    each; with `show_all`, every node and no roll-up."""
    tree = _Tree(diff)
    if tree.is_directory(ROOT):
        return list(_directory_entries(tree, ROOT, show_all))
    return list(_file_entries(tree, sorted(tree.nodes), show_all, depth=0))


def _directory_entries(tree: _Tree, path: str, show_all: bool) -> Iterator[DiffEntry]:
    shared = tree.signatures(path)
    if not show_all and shared == {None}:
        return
    label = _directory_label(path)
    if not show_all and len(shared) == 1 and len(list(tree.subtree(path))) > 1:
        yield _rolled_up_entry(tree, path, label)
        return
    own = tree.nodes.get(path)
    yield (_node_entry(own, label, depth=0) if own is not None
           else DiffEntry(path, label, 0, "", (), {}, nodes=0, differs=False))
    children = tree.children.get(path, [])
    yield from _file_entries(tree, [c for c in children if not tree.is_directory(c)], show_all,
                             depth=1)
    for child in children:
        if tree.is_directory(child):
            yield from _directory_entries(tree, child, show_all)


def _directory_label(path: str) -> str:
    return "./" if path == ROOT else f"{path}/"


def _file_entries(tree: _Tree, paths: list[str], show_all: bool, *, depth: int
                  ) -> Iterator[DiffEntry]:
    for path in paths:
        node = tree.nodes[path]
        if show_all or node.differs:
            label = path.rsplit("/", 1)[-1] if depth else _directory_label(path)
            yield _node_entry(node, label, depth=depth)


def _node_entry(node: NodeDiff, label: str, *, depth: int) -> DiffEntry:
    return DiffEntry(node.path, label, depth, node.change, _flags(node), node.deltas(),
                     differs=node.differs)


def _rolled_up_entry(tree: _Tree, path: str, label: str) -> DiffEntry:
    nodes = list(tree.subtree(path))
    totals = {name: sum(node.deltas()[name] for node in nodes) for name in DELTAS}
    first = nodes[0]
    return DiffEntry(path, label, 0, first.change, _flags(first), totals, nodes=len(nodes))


def _flags(node: NodeDiff) -> tuple[str, ...]:
    values = (node.file_changed, node.content_changed, node.provider_changed)
    return tuple(name for name, flag in zip(FLAGS, values, strict=True) if flag)


# -- text -----------------------------------------------------------------------------------

DELTA_NAMES = {"tokens": "tokens", "provider_ms": "provider", "queue_wait_ms": "queue wait",
               "retries": "retries"}
"""How each of `DELTAS` is named in text."""
_MS = frozenset({"provider_ms", "queue_wait_ms", "duration_ms"})


def format_figure(name: str, value: int | None, *, signed: bool = False) -> str:
    """`1,748 ms` for a time, `12,748` for a count; `signed` puts `+`/`-` first."""
    if value is None:
        return "?"
    number = f"{value:+,}" if signed else f"{value:,}"
    return number + (" ms" if name in _MS else "")


def entry_line(entry: DiffEntry) -> str:
    """`  a.py: generated → generated  (content changed; tokens +12)`; a rolled-up directory
    says how many nodes share the change: `docs/  all 4: generated → up to date  (…)`."""
    head = "  " * entry.depth + entry.label
    if entry.rolled_up:
        head += f"  all {entry.nodes}"
    if not entry.change:
        return head
    deltas = ", ".join(f"{DELTA_NAMES[name]} {format_figure(name, value, signed=True)}"
                       for name, value in entry.deltas.items() if value)
    flags = entry.flags if entry.differs else ("unchanged",)
    extra = "; ".join(part for part in (", ".join(flags), deltas) if part)
    return f"{head}: {entry.change}" + (f"  ({extra})" if extra else "")


def summary_lines(diff: SessionDiff) -> list[str]:
    """The summary: both ids, counts, totals A → B, the outcome changes, the slowest
    regressions."""
    summary = diff.summary()
    lines = [f"A {diff.a_id}  →  B {diff.b_id}",
             f"  {summary['nodes']:,} nodes, {summary['differing']:,} differ, "
             f"{summary['content_changed']:,} with new content",
             f"  duration {_total(summary, 'duration_ms')}",
             f"  tokens {_total(summary, 'tokens')}, retries {_total(summary, 'retries')}",
             f"  provider {_total(summary, 'provider_ms')}, queue wait "
             f"{_total(summary, 'queue_wait_ms')}"]
    lines.extend(f"  {change}: {count:,}" for change, count in summary["outcome_changes"].items())
    lines.extend(f"  slower: {row['path']} "
                 f"{format_figure('provider_ms', row['provider_ms'], signed=True)}"
                 for row in summary["slowest_regressions"])
    return lines


def _total(summary: dict[str, Any], name: str) -> str:
    return (f"{format_figure(name, summary[name]['a'])} → "
            f"{format_figure(name, summary[name]['b'])}")
