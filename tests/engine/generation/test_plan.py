"""Plans: levels by height, head reuse, force, the descendant check and change plans."""

from __future__ import annotations

from collections.abc import Iterable

from contextree.engine.generation.plan import (
    ancestors,
    assign_levels,
    build_change_plan,
    build_plan,
)
from contextree.engine.workspace.tree import DIRECTORY, FILE, NodeRecord

FILES = ["README.md", "pkg/__init__.py", "pkg/core.py", "pkg/util/a.py", "pkg/util/b.py",
         "docs/guide.md"]


def tree(files: list[str]) -> dict[str, NodeRecord]:
    """Records for `files` and their directories; ids are just the paths (unique)."""
    records: dict[str, NodeRecord] = {}
    for path in files:
        records[path] = NodeRecord(id=f"id:{path}", path=path, type=FILE, size=1, mtime_ns=0,
                                   inode=0)
        parent = path
        while parent != ".":
            parent = parent.rpartition("/")[0] or "."
            records.setdefault(parent, NodeRecord(id=f"id:{parent}", path=parent,
                                                  type=DIRECTORY, size=0, mtime_ns=0, inode=0))
    return records


def heads_for(*paths: str):  # type: ignore[no-untyped-def]
    covered = {f"id:{path}" for path in paths}

    def lookup(ids: Iterable[str]) -> set[str]:
        return {node_id for node_id in ids if node_id in covered}

    return lookup


def paths(level: list[NodeRecord]) -> list[str]:
    return [record.path for record in level]


def test_levels_go_from_leaves_to_the_root_by_height() -> None:
    plan = build_plan(tree(FILES), ".", frame_type="context-docs", has_head=heads_for())
    assert [paths(level) for level in plan.levels] == [
        ["README.md", "docs/guide.md", "pkg/__init__.py", "pkg/core.py", "pkg/util/a.py",
         "pkg/util/b.py"],
        ["docs", "pkg/util"],
        ["pkg"],
        ["."],
    ]
    assert plan.total_nodes == plan.planned_count == 10 and plan.reused == []
    assert len(plan.plan_id) == 16 and int(plan.plan_id, 16) >= 0


def test_nodes_with_a_current_head_are_reused_unless_forced() -> None:
    records = tree(FILES)
    current = heads_for(*[p for p in records if p not in ("pkg/core.py", "pkg", ".")])
    plan = build_plan(records, ".", frame_type="context-docs", has_head=current)
    assert [paths(level) for level in plan.levels] == [["pkg/core.py"], ["pkg"], ["."]]
    assert len(plan.reused) == 7 and plan.total_nodes == 10
    forced = build_plan(records, ".", frame_type="context-docs", has_head=current, force=True)
    assert forced.planned_count == 10 and forced.reused == []


def test_a_subdirectory_target_plans_only_its_subtree() -> None:
    plan = build_plan(tree(FILES), "pkg/util", frame_type="t", has_head=heads_for())
    assert [paths(level) for level in plan.levels] == [["pkg/util/a.py", "pkg/util/b.py"],
                                                       ["pkg/util"]]


def test_non_recursive_directory_lists_descendants_without_context() -> None:
    records = tree(FILES)
    plan = build_plan(records, "pkg", frame_type="t", has_head=heads_for("pkg/core.py"),
                      recursive=False)
    assert plan.missing_paths == ["pkg/__init__.py", "pkg/util", "pkg/util/a.py",
                                  "pkg/util/b.py"]
    assert [paths(level) for level in plan.levels] == [["pkg"]]
    covered = heads_for(*[p for p in records if p.startswith("pkg/")])
    ready = build_plan(records, "pkg", frame_type="t", has_head=covered, recursive=False)
    assert ready.missing_paths == [] and ready.planned_count == 1


def test_a_file_target_is_just_that_file() -> None:
    plan = build_plan(tree(FILES), "pkg/core.py", frame_type="t", has_head=heads_for(),
                      recursive=False)
    assert [paths(level) for level in plan.levels] == [["pkg/core.py"]]
    assert plan.missing_paths == []


def test_change_plans_take_changed_nodes_and_every_ancestor() -> None:
    records = tree(FILES)
    plan = build_change_plan(records, ["pkg/util/a.py", "gone.py"], frame_type="t",
                             has_head=heads_for())
    assert [paths(level) for level in plan.levels] == [["pkg/util/a.py"], ["pkg/util"],
                                                       ["pkg"], ["."]]


def test_a_directory_waits_only_for_its_planned_children() -> None:
    records = tree(FILES)
    planned = [records["pkg/util/a.py"], records["pkg"]]  # pkg/util itself is current
    assert [paths(level) for level in assign_levels(planned)] == [["pkg", "pkg/util/a.py"]]
    assert list(ancestors("pkg/util/a.py")) == ["pkg/util", "pkg", "."]
