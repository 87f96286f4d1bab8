"""Status: tree counts, staleness against the disk, sessions summary, the coverage hook."""

from __future__ import annotations

from collections.abc import Mapping

from contextree.engine.workspace.config import Config
from contextree.engine.workspace.layout import Workspace
from contextree.engine.workspace.status import AgentCoverage, workspace_status
from contextree.engine.workspace.tree import FILE, NodeRecord
from contextree.progress import EventStore, ProgressRuntime

from .helpers import scan, write


def test_before_any_scan(workspace: Workspace, store: EventStore, config: Config) -> None:
    status = workspace_status(workspace, store, config=config)
    assert status.scanned is False and status.node_count == 0 and status.stale is None
    assert status.to_json()["root_id"] is None


def test_counts_and_freshness_after_a_scan(
    workspace: Workspace, store: EventStore, config: Config
) -> None:
    write(workspace.root, "a/b.txt", "bb")
    write(workspace.root, "c.txt", "c")
    result, _ = scan(workspace, store, config)
    status = workspace_status(workspace, store, config=config)
    assert (status.node_count, status.file_count, status.dir_count) == (4, 2, 2)
    assert status.total_bytes == 3 and status.root_id == result.root_id
    assert status.stale is False and status.stale_paths == []
    assert status.last_scan_at is not None and status.last_scan_at.endswith("Z")
    assert status.tree_updated_at == status.last_scan_at


def test_changes_on_disk_make_it_stale_without_touching_the_tree(
    workspace: Workspace, store: EventStore, config: Config
) -> None:
    write(workspace.root, "a/b.txt", "bb")
    write(workspace.root, "c.txt", "c")
    write(workspace.root, "gone.txt", "g")
    result, _ = scan(workspace, store, config)
    write(workspace.root, "a/b.txt", "changed")
    write(workspace.root, "a/new.txt", "n")
    (workspace.root / "gone.txt").unlink()
    status = workspace_status(workspace, store, config=config)
    assert status.stale is True and status.stale_count == 3
    assert status.stale_paths == ["a/b.txt", "a/new.txt", "gone.txt"]
    assert status.root_id == result.root_id  # read-only: nothing was written
    quick = workspace_status(workspace, store, config=config, check_stale=False)
    assert quick.stale is None


def test_sessions_are_counted_by_effective_status(
    workspace: Workspace, config: Config
) -> None:
    with ProgressRuntime.open(workspace.store_path) as runtime:
        with runtime.session("scan") as session:
            session.emit("scan_started", {"root": ".", "force": False})
        try:
            with runtime.session("scan"):
                raise RuntimeError("boom")
        except RuntimeError:
            pass
        with runtime.session("watch"):
            status = workspace_status(workspace, runtime.store, config=config)
    assert status.sessions == {"completed": 1, "failed": 1, "active": 1}
    assert status.session_count == 3 and status.to_json()["session_count"] == 3


def test_coverage_hook_receives_the_tree(
    workspace: Workspace, store: EventStore, config: Config
) -> None:
    write(workspace.root, "a.txt", "a")
    write(workspace.root, "b.txt", "b")
    scan(workspace, store, config)
    seen: list[int] = []

    def coverage(records: Mapping[str, NodeRecord]) -> dict[str, AgentCoverage]:
        seen.append(len(records))
        files = sum(1 for record in records.values() if record.type == FILE)
        return {"docs": AgentCoverage(covered=1, total=files)}

    status = workspace_status(workspace, store, config=config, coverage=coverage)
    assert seen == [3]
    assert status.coverage == {"docs": AgentCoverage(1, 2)}
    assert status.to_json()["coverage"] == {"docs": {"covered": 1, "total": 2, "ratio": 0.5}}
