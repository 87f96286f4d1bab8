"""Generation plans: which nodes need a frame, grouped into levels from leaves to trunk.

A node is up to date when it has a head for its current id (ids encode content), so a plan
holds only the nodes without one — all of them with `force`. Levels go by height: level 0 holds
every planned file and every planned directory with no planned child, and a directory sits one
level above its highest planned child. So each directory runs after everything beneath it that
it waits for, while every file runs in the first level at full concurrency. A non-recursive
directory target plans the directory alone, after checking that every descendant has context.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from contextree.engine.workspace.tree import DIRECTORY, ROOT, NodeRecord, is_within, parent_path

MISSING_PATHS_REPORTED = 50

HeadLookup = Callable[[Iterable[str]], set[str]]
"""Given node ids, the subset that has a head for the plan's frame type."""


@dataclass
class Plan:
    """Levels of nodes to generate (deepest first) and the nodes that are already current."""

    plan_id: str
    target: NodeRecord
    frame_type: str
    force: bool
    recursive: bool
    levels: list[list[NodeRecord]] = field(default_factory=list)
    reused: list[NodeRecord] = field(default_factory=list)
    missing_paths: list[str] = field(default_factory=list)

    @property
    def planned_count(self) -> int:
        return sum(len(level) for level in self.levels)

    @property
    def total_nodes(self) -> int:
        """Every node the plan covers: to generate plus already current."""
        return self.planned_count + len(self.reused)


def new_plan_id() -> str:
    return os.urandom(8).hex()


def subtree(records: Mapping[str, NodeRecord], target: str) -> list[NodeRecord]:
    """`target` and every node beneath it."""
    if target == ROOT:
        return list(records.values())
    return [record for path, record in records.items() if is_within(path, target)]


def build_plan(
    records: Mapping[str, NodeRecord],
    target: str,
    *,
    frame_type: str,
    has_head: HeadLookup,
    force: bool = False,
    recursive: bool = True,
) -> Plan:
    """The plan for `target` (a path present in `records`)."""
    root = records[target]
    plan = Plan(new_plan_id(), root, frame_type, force, recursive)
    if recursive or root.type != DIRECTORY:
        scope = subtree(records, target) if recursive else [root]
    else:
        descendants = [r for r in subtree(records, target) if r.path != target]
        covered = has_head(record.id for record in descendants)
        plan.missing_paths = sorted(r.path for r in descendants if r.id not in covered)
        scope = [root]
    _fill(plan, scope, has_head)
    return plan


def build_change_plan(
    records: Mapping[str, NodeRecord],
    paths: Iterable[str],
    *,
    frame_type: str,
    has_head: HeadLookup,
) -> Plan:
    """The plan for nodes that changed (a watch batch lists each with its ancestors)."""
    scope = {path: records[path] for path in paths if path in records}
    for path in list(scope):
        while path != ROOT:
            path = parent_path(path)
            if path in records:
                scope.setdefault(path, records[path])
    plan = Plan(new_plan_id(), records[ROOT], frame_type, force=False, recursive=True)
    _fill(plan, list(scope.values()), has_head)
    return plan


def _fill(plan: Plan, scope: list[NodeRecord], has_head: HeadLookup) -> None:
    covered = set() if plan.force else has_head(record.id for record in scope)
    planned = [record for record in scope if record.id not in covered]
    plan.reused = sorted((r for r in scope if r.id in covered), key=_path_key)
    plan.levels = assign_levels(planned)


def assign_levels(planned: list[NodeRecord]) -> list[list[NodeRecord]]:
    """Group `planned` by height within the planned set; level 0 first."""
    height: dict[str, int] = {}
    for record in sorted(planned, key=_depth, reverse=True):
        height.setdefault(record.path, 0)
        if record.path != ROOT:
            parent = parent_path(record.path)
            height[parent] = max(height.get(parent, 0), height[record.path] + 1)
    by_height: dict[int, list[NodeRecord]] = {}
    for record in planned:
        by_height.setdefault(height[record.path], []).append(record)
    return [sorted(by_height[h], key=_path_key) for h in sorted(by_height)]


def ancestors(path: str) -> Iterable[str]:
    """`path`'s ancestors, nearest first, ending with the root."""
    while path != ROOT:
        path = parent_path(path)
        yield path


def _depth(record: NodeRecord) -> int:
    return 0 if record.path == ROOT else record.path.count("/") + 1


def _path_key(record: NodeRecord) -> str:
    return record.path
