"""Scanning a workspace (or part of it) into the Merkle tree, incrementally.

`scan_workspace` runs a `TreeBuilder` (see `builder`) over the workspace or one path in it,
writes the difference to the store in one transaction and emits the scanner events of
SPEC §4. A rescan of an unchanged tree writes nothing but the scan metadata.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from contextree.engine.emitter import Emitter
from contextree.engine.store import EngineStore
from contextree.engine.workspace.builder import ScanCounts, Skipped, TreeBuilder
from contextree.engine.workspace.config import Config, load_config
from contextree.engine.workspace.entries import valid_name
from contextree.engine.workspace.ignore import IgnoreRules
from contextree.engine.workspace.layout import Workspace
from contextree.engine.workspace.tree import (
    ROOT,
    TreeIndex,
    TreeStore,
    diff_records,
    tree_summary,
)
from contextree.errors import UsageError
from contextree.progress.catalog import EventType
from contextree.progress.event import now_ts
from contextree.progress.schema import TREE_LAST_SCAN, TREE_SUMMARY

__all__ = [
    "ScanCounts",
    "ScanResult",
    "Skipped",
    "TreeBuilder",
    "resolve_target",
    "scan_workspace",
    "valid_name",
]

SKIPPED_REPORTED = 20


@dataclass
class ScanResult:
    """What a scan did; `event_data()` is the `scan_completed` payload."""

    root: str
    root_id: str | None
    changed: bool
    counts: ScanCounts
    duration_ms: int
    skipped: list[Skipped] = field(default_factory=list)

    def event_data(self) -> dict[str, Any]:
        return {
            **asdict(self.counts),
            "root_id": self.root_id,
            "changed": self.changed,
            "duration_ms": self.duration_ms,
            "skipped_count": len(self.skipped),
            "skipped": [asdict(item) for item in self.skipped[:SKIPPED_REPORTED]],
        }


# --- scanning a workspace -----------------------------------------------------------------


def resolve_target(workspace: Workspace, path: str | os.PathLike[str] | None) -> str:
    """`path` as a workspace-relative path (see `Workspace.relative_path`)."""
    return workspace.relative_path(path)


def scan_workspace(
    workspace: Workspace,
    store: EngineStore,
    emitter: Emitter,
    *,
    force: bool = False,
    config: Config | None = None,
    path: str | os.PathLike[str] | None = None,
) -> ScanResult:
    """Scan the workspace (or `path` inside it) into the tree in `store`; emit scan events."""
    started = time.monotonic()
    config = config if config is not None else load_config(workspace)
    target = workspace.relative_path(path)
    tree = TreeStore(store)
    previous = tree.load_records()
    if ROOT not in previous:
        target = ROOT
    emitter.emit(EventType.SCAN_STARTED, {"root": target, "force": force})
    last_reported: dict[str, int] = {}

    def progress(counts: ScanCounts) -> None:
        last_reported.update(_progress_data(counts))
        emitter.emit(EventType.SCAN_PROGRESS, dict(last_reported))

    rules = IgnoreRules.for_workspace(workspace, config.ignore_patterns)
    builder = TreeBuilder(workspace.root, rules, previous, force=force, on_progress=progress)
    if target == ROOT:
        builder.build_root()
        records = builder.records
        changes = diff_records(previous, records, builder.fresh)
    else:
        if rules.is_ignored(target, is_dir=os.path.isdir(workspace.root / target)):
            raise UsageError(f"{target} is ignored (built-ins, config or .gitignore) — not scanned")
        index = TreeIndex(dict(previous))
        index.rebuild([target], builder.build_subtree)
        records, changes = index.records, index.take_changes()
    if last_reported != _progress_data(builder.counts):
        progress(builder.counts)
    root_id = records[ROOT].id if ROOT in records else None
    previous_root = previous.get(ROOT)
    result = ScanResult(
        root=target,
        root_id=root_id,
        changed=previous_root is None or previous_root.id != root_id,
        counts=builder.counts,
        duration_ms=int((time.monotonic() - started) * 1000),
        skipped=builder.skipped,
    )
    finished_at = now_ts()
    last_scan = {"finished_at": finished_at, "root": target, "force": force, **result.event_data()}
    tree.apply(
        changes,
        {
            TREE_SUMMARY: tree_summary(records, updated_at=finished_at, by="scan"),
            TREE_LAST_SCAN: last_scan,
        },
    )
    emitter.emit(EventType.SCAN_COMPLETED, result.event_data())
    return result


def _progress_data(counts: ScanCounts) -> dict[str, int]:
    return {
        "node_count": counts.node_count,
        "file_count": counts.file_count,
        "dir_count": counts.dir_count,
        "bytes_hashed": counts.bytes_hashed,
    }
