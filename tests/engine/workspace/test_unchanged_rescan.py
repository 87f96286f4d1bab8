"""Rescans: an unchanged tree is walked, not rebuilt; what changed is found all the same."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import msgspec
import pytest

from contextree.engine.workspace import builder as builder_module
from contextree.engine.workspace.config import Config
from contextree.engine.workspace.layout import Workspace
from contextree.engine.workspace.tree import ROOT, TreeChanges, TreeStore
from contextree.progress import EventStore

from .helpers import OLD, fresh_ids, scan, stored_ids, write


def project(root: Path, files: int = 12) -> None:
    for index in range(files):
        write(root, f"pkg{index % 3}/sub{index % 2}/module_{index}.py", f"VALUE = {index}\n")
    write(root, "README.md", "# project\n")


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[TreeChanges, dict[bytes, Any]]]:
    """Every `TreeStore.apply` call: the tree changes and meta entries a scan writes."""
    calls: list[tuple[TreeChanges, dict[bytes, Any]]] = []
    real_apply = TreeStore.apply

    def recording_apply(self: TreeStore, changes: TreeChanges, meta: Any) -> None:
        calls.append((changes, dict(meta)))
        real_apply(self, changes, meta)

    monkeypatch.setattr(TreeStore, "apply", recording_apply)
    return calls


def test_an_unchanged_rescan_writes_only_the_scan_metadata(
    workspace: Workspace, store: EventStore, config: Config, writes: list[Any]
) -> None:
    project(workspace.root)
    first, _ = scan(workspace, store, config)
    before = TreeStore(store).load_records()
    second, _ = scan(workspace, store, config)
    changes, meta = writes[-1]
    assert not changes.put and not changes.delete_ids and not changes.delete_paths
    assert set(meta) == {b"tree.summary", b"tree.last_scan"}
    assert second.changed is False and second.root_id == first.root_id
    assert second.counts.node_count == first.counts.node_count == len(before)
    assert TreeStore(store).load_records() == before


def test_a_touched_file_is_reread_and_its_new_stat_kept_up_to_the_root(
    workspace: Workspace, store: EventStore, config: Config, writes: list[Any]
) -> None:
    project(workspace.root)
    scan(workspace, store, config)
    before = TreeStore(store).load_records()
    touched = workspace.root / "pkg1" / "sub1" / "module_1.py"
    os.utime(touched, (OLD + 60, OLD + 60))  # same content, newer mtime
    second, _ = scan(workspace, store, config)
    after = TreeStore(store).load_records()
    assert second.changed is False and second.counts.files_rehashed == 1
    assert {path: r.id for path, r in after.items()} == {p: r.id for p, r in before.items()}
    changed = {record.path for record in writes[-1][0].put}
    assert changed == {"pkg1/sub1/module_1.py", "pkg1/sub1", "pkg1", ROOT}
    assert after["pkg1/sub1/module_1.py"].mtime_ns == touched.stat().st_mtime_ns
    assert after[ROOT].mtime_ns == after["pkg1"].mtime_ns == touched.stat().st_mtime_ns
    assert not writes[-1][0].delete_ids  # the ids did not change: nothing to delete


def test_additions_deletions_and_ignore_changes_match_a_fresh_scan(
    workspace: Workspace, store: EventStore, config: Config, tmp_path: Path
) -> None:
    project(workspace.root)
    scan(workspace, store, config)
    (workspace.root / "pkg0" / "sub0" / "module_0.py").unlink()
    write(workspace.root, "pkg2/sub0/added.py", "ADDED = 1\n")
    write(workspace.root, ".gitignore", "pkg1/\n")
    second, _ = scan(workspace, store, config)
    after = stored_ids(store)
    assert second.changed is True
    assert after == fresh_ids(workspace, config, tmp_path)
    assert "pkg0/sub0/module_0.py" not in after and "pkg2/sub0/added.py" in after
    assert not any(path.startswith("pkg1") for path in after)


def test_a_file_replaced_by_a_directory_of_the_same_name_is_rebuilt(
    workspace: Workspace, store: EventStore, config: Config, tmp_path: Path
) -> None:
    project(workspace.root)
    scan(workspace, store, config)
    (workspace.root / "README.md").unlink()
    write(workspace.root, "README.md/inner.txt", "now a directory\n")
    scan(workspace, store, config)
    assert stored_ids(store) == fresh_ids(workspace, config, tmp_path)


def test_rescan_progress_keeps_its_cadence(
    workspace: Workspace, store: EventStore, config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    for index in range(1234):
        write(workspace.root, f"d{index % 7}/f{index}.txt", str(index))
    scan(workspace, store, config)
    monkeypatch.setattr(builder_module, "PROGRESS_MIN_INTERVAL_S", 0.0)
    second, events = scan(workspace, store, config)
    assert second.counts.files_rehashed == 0
    progress = events.of("scan_progress")
    assert [data["node_count"] for data in progress][:2] == [500, 1000]
    assert progress[-1]["node_count"] == 1234 + 7 + 1
    for key in ("node_count", "file_count", "dir_count"):
        values = [data[key] for data in progress]
        assert values == sorted(values)
    assert all(data["file_count"] + data["dir_count"] == data["node_count"] for data in progress)


def test_a_directory_record_out_of_step_with_its_children_is_mended(
    workspace: Workspace, store: EventStore, config: Config, tmp_path: Path
) -> None:
    """Two processes writing at once can leave a directory record that does not match the
    records of its children; the next scan rebuilds it although no file changed."""
    project(workspace.root)
    scan(workspace, store, config)
    tree = TreeStore(store)
    records = tree.load_records()
    stale_times = msgspec.structs.replace(records["pkg0"], mtime_ns=1, size=1)
    stale_child = records["pkg1/sub0"]
    stale_children = msgspec.structs.replace(
        records["pkg1"], children=(stale_child.id, stale_child.id)
    )
    tree.apply(TreeChanges(put=[stale_times, stale_children]), {})
    second, _ = scan(workspace, store, config)
    mended = TreeStore(store).load_records()
    assert second.counts.files_rehashed == 0
    for path in ("pkg0", "pkg1"):
        assert mended[path] == records[path]
    assert stored_ids(store) == fresh_ids(workspace, config, tmp_path)
