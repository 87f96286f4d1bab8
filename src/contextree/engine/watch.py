"""Watching a workspace: each debounced batch of file changes updates the tree in place.

`watch_workspace` runs `watchfiles` in the calling thread until its stop event is set. Once
the watcher is live it emits `watch_started` and brings the stored tree up to date with an
incremental scan; then, for every batch, it emits `file_changed` per relevant path, rebuilds
just those paths (and their subtrees) and their ancestors, writes the difference in one
transaction and emits `batch_processed`. The result always equals what a fresh
`scan --force` would store. `on_batch` receives every processed batch (the `--generate` hook).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import watchfiles

from contextree.engine.config import Config, load_config
from contextree.engine.ignore import GITIGNORE
from contextree.engine.scan import (
    Emitter,
    TreeBuilder,
    rebuild_paths,
    scan_workspace,
    workspace_ignore_rules,
)
from contextree.engine.tree import (
    DIRECTORY,
    META_SUMMARY,
    ROOT,
    TreeIndex,
    TreeStore,
    is_within,
    parent_path,
    tree_summary,
)
from contextree.engine.workspace import Workspace
from contextree.progress.event import now_ts

DEFAULT_DEBOUNCE_MS = 300
STEP_MS = 50
IDLE_YIELD_MS = 100
ALIAS_ROUNDS = 4
ADDED, MODIFIED, DELETED = "added", "modified", "deleted"


class WatchStop(threading.Event):
    """A stop event that also says why: `stop("signal SIGTERM")`."""

    reason = "stopped"

    def stop(self, reason: str) -> None:
        self.reason = reason
        self.set()


@dataclass(frozen=True)
class FileChange:
    """One relevant change in a batch, workspace-relative."""

    path: str
    change: str


@dataclass(frozen=True)
class WatchBatch:
    """A processed batch: its changes, every path whose node changed, the new root id."""

    changes: list[FileChange]
    updated_paths: list[str]
    root_id: str | None
    duration_ms: int


@dataclass
class WatchResult:
    """Totals of a watch, returned when it stops."""

    reason: str = "stopped"
    batch_count: int = 0
    change_count: int = 0
    root_id: str | None = None


class _TreeWatcher:
    """The tree of one watched workspace, kept in memory and in the store."""

    def __init__(self, workspace: Workspace, store: Any, emitter: Emitter, config: Config):
        self.workspace = workspace
        self.root = str(workspace.root)
        self.emitter = emitter
        self.rules = workspace_ignore_rules(workspace, config)
        self.tree = TreeStore(store)
        self.index = TreeIndex(self.tree.load_records())
        self._private = [workspace.ctree_dir, workspace.store_path]

    def reload(self) -> None:
        self.index = TreeIndex(self.tree.load_records())

    def relevant_changes(self, raw: Iterable[tuple[watchfiles.Change, str]]) -> list[FileChange]:
        """Workspace-relative changes outside ignored paths, one per path, in path order."""
        self.rules.clear_cache()
        paths = {rel for _, full in raw if (rel := self._relative(full)) is not None}
        changes: list[FileChange] = []
        for path in sorted(paths):
            full = os.path.join(self.root, path)
            exists = os.path.lexists(full)
            known = self.index.records.get(path)
            if not exists and known is None:
                continue
            is_dir = (
                os.path.isdir(full) if exists else known is not None and known.type == DIRECTORY
            )
            if self.rules.is_ignored(path, is_dir):
                continue
            kind = DELETED if not exists else (MODIFIED if known is not None else ADDED)
            changes.append(FileChange(path, kind))
        return changes

    def apply(self, changes: list[FileChange]) -> list[str]:
        """Rebuild the changed paths; write and return the paths whose records changed."""
        paths = self._with_aliases({change.path for change in changes})
        targets = set(paths)
        for path in paths:
            if path.rpartition("/")[2] == GITIGNORE:
                targets.add(parent_path(path))
        builder = TreeBuilder(
            self.workspace.root, self.rules, self.index.records, force_paths=paths
        )
        rebuild_paths(self.index, builder, targets)
        written = self.index.take_changes()
        summary = tree_summary(self.index.records, updated_at=now_ts(), by="watch")
        self.tree.apply(written, {META_SUMMARY: summary})
        return sorted({record.path for record in written.put} | set(written.delete_paths))

    def _relative(self, full: str) -> str | None:
        if any(is_within_fs(full, str(private)) for private in self._private):
            return None
        if full == self.root:
            return ROOT
        if not full.startswith(self.root + os.sep):
            return None
        return full[len(self.root) + 1 :].replace(os.sep, "/")

    def _with_aliases(self, paths: set[str]) -> set[str]:
        """`paths` plus the same places seen through symbolic links, both ways."""
        links = {
            record.path: record.symlink
            for record in self.index.records.values()
            if record.symlink is not None
        }
        if not links:
            return paths
        result = set(paths)
        frontier = set(paths)
        for _ in range(ALIAS_ROUNDS):
            found: set[str] = set()
            for path in frontier:
                for link, target in links.items():
                    found.update(_alias(path, target, link), _alias(path, link, target))
            frontier = found - result
            if not frontier:
                break
            result |= frontier
        return result


def _alias(path: str, source: str, destination: str) -> set[str]:
    """`path` seen from `destination` instead of `source`, if it is or lies under `source`."""
    if source == ROOT or not is_within(path, source):
        return set()
    if path == source:
        return {destination}
    rest = path[len(source) + 1 :]
    return {rest if destination == ROOT else f"{destination}/{rest}"}


def is_within_fs(full: str, ancestor: str) -> bool:
    return full == ancestor or full.startswith(ancestor + os.sep)


def watch_workspace(
    workspace: Workspace,
    store: Any,
    emitter: Emitter,
    *,
    stop_event: threading.Event,
    config: Config | None = None,
    debounce_ms: int = DEFAULT_DEBOUNCE_MS,
    generate: bool = False,
    on_batch: Callable[[WatchBatch], None] | None = None,
) -> WatchResult:
    """Watch until `stop_event` is set; see the module docstring for the events."""
    config = config if config is not None else load_config(workspace)
    watcher = _TreeWatcher(workspace, store, emitter, config)
    result = WatchResult()
    started = False
    for raw in watchfiles.watch(
        workspace.root,
        watch_filter=None,
        debounce=debounce_ms,
        step=STEP_MS,
        stop_event=stop_event,
        rust_timeout=IDLE_YIELD_MS,
        yield_on_timeout=True,
        raise_interrupt=False,
        ignore_permission_denied=True,
    ):
        if not started:
            started = True
            emitter.emit(
                "watch_started", {"root": ROOT, "debounce_ms": debounce_ms, "generate": generate}
            )
            scan_workspace(workspace, store, emitter, config=config)
            watcher.reload()
        if raw and not stop_event.is_set():
            batch = _process_batch(watcher, raw, emitter)
            if batch is not None:
                result.batch_count += 1
                result.change_count += len(batch.changes)
                if on_batch is not None:
                    on_batch(batch)
    result.reason = getattr(stop_event, "reason", "stopped") if stop_event.is_set() else "ended"
    result.root_id = watcher.index.root_id
    emitter.emit("watch_stopped", {"reason": result.reason})
    return result


def _process_batch(
    watcher: _TreeWatcher, raw: set[tuple[watchfiles.Change, str]], emitter: Emitter
) -> WatchBatch | None:
    started = time.monotonic()
    changes = watcher.relevant_changes(raw)
    if not changes:
        return None
    for change in changes:
        emitter.emit("file_changed", {"path": change.path, "change": change.change})
    updated = watcher.apply(changes)
    batch = WatchBatch(
        changes=changes,
        updated_paths=updated,
        root_id=watcher.index.root_id,
        duration_ms=int((time.monotonic() - started) * 1000),
    )
    emitter.emit(
        "batch_processed",
        {
            "change_count": len(changes),
            "nodes_updated": len(updated),
            "root_id": batch.root_id,
            "duration_ms": batch.duration_ms,
        },
    )
    return batch
