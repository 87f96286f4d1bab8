"""Watching a workspace: each debounced batch of file changes updates the tree in place.

`watch_workspace` runs `watchfiles` in the calling thread until its stop event is set. Once
the watcher is live it emits `watch_started` and brings the stored tree up to date with an
incremental scan; then, for every batch, it emits `file_changed` per relevant path, rebuilds
just those paths (and their subtrees) and their ancestors, writes the difference in one
transaction and emits `batch_processed`. The result always equals what a fresh
`scan --force` would store. `on_batch` receives every processed batch (the `--generate` hook).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import watchfiles

from contextree.engine.emitter import Emitter
from contextree.engine.store import EngineStore
from contextree.engine.workspace.config import Config, load_config
from contextree.engine.workspace.ignore import GITIGNORE, IgnoreRules
from contextree.engine.workspace.layout import Workspace
from contextree.engine.workspace.scan import (
    TreeBuilder,
    scan_workspace,
    valid_name,
)
from contextree.engine.workspace.tree import (
    DIRECTORY,
    FILE,
    ROOT,
    TreeIndex,
    TreeStore,
    is_within,
    parent_path,
    tree_summary,
)
from contextree.errors import WorkspaceError
from contextree.progress.catalog import EventType
from contextree.progress.event import now_ts
from contextree.progress.schema import TREE_SUMMARY

try:
    from watchfiles._rust_notify import WatchfilesRustInternalError as _WatcherFailure
except ImportError:  # pragma: no cover - a watchfiles without it raises RuntimeError
    _WatcherFailure = RuntimeError  # type: ignore[assignment,misc]

log = logging.getLogger(__name__)

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

    def __init__(self, workspace: Workspace, store: EngineStore, emitter: Emitter, config: Config):
        self.workspace = workspace
        self.root = str(workspace.root)
        self.emitter = emitter
        self.rules = IgnoreRules.for_workspace(workspace, config.ignore_patterns)
        self.tree = TreeStore(store)
        self._private = [workspace.ctree_dir, workspace.store_path]
        self.reload()

    def reload(self) -> None:
        """Take the stored tree as the current one."""
        self.index = TreeIndex(self.tree.load_records())
        self._summary_seen = self.tree.summary()

    def _catch_up(self) -> None:
        """Reload if another process (a `ctree scan`) rewrote the tree since we last did."""
        if self.tree.summary() != self._summary_seen:
            self.reload()

    def resync(self, config: Config) -> WatchBatch | None:
        """Bring the tree up to date with an incremental scan; when there was a tree before,
        report what changed as a batch (changes made while nobody was watching)."""
        started = time.monotonic()
        before = self.index.records
        scan_workspace(self.workspace, self.tree.store, self.emitter, config=config)
        self.reload()
        after = self.index.records
        if not before:
            return None
        changes = [
            FileChange(
                path, ADDED if path not in before else DELETED if path not in after else MODIFIED
            )
            for path in sorted(before.keys() | after.keys())
            if (old := before.get(path)) is None
            or (new := after.get(path)) is None
            or (old.type == FILE and old.id != new.id)
        ]
        if not changes:
            return None
        for change in changes:
            self.emitter.emit(EventType.FILE_CHANGED,
                              {"path": change.path, "change": change.change})
        updated = sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))
        return _report_batch(self, self.emitter, changes, updated, started)

    def relevant_changes(self, raw: Iterable[tuple[watchfiles.Change, str]]) -> list[FileChange]:
        """Workspace-relative changes outside ignored paths, one per path, in path order."""
        self.rules.clear_cache()
        self._catch_up()
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
        self.index.rebuild(targets, builder.build_subtree)
        written = self.index.take_changes()
        summary = tree_summary(self.index.records, updated_at=now_ts(), by="watch")
        self.tree.apply(written, {TREE_SUMMARY: summary})
        self._summary_seen = summary
        return sorted({record.path for record in written.put} | set(written.delete_paths))

    def _relative(self, full: str) -> str | None:
        if any(is_within_fs(full, str(private)) for private in self._private):
            return None
        if full == self.root:
            return ROOT
        if not full.startswith(self.root + os.sep) or not valid_name(full):
            return None  # names that are not UTF-8 are never in the tree
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
    store: EngineStore,
    emitter: Emitter,
    *,
    stop_event: threading.Event,
    config: Config | None = None,
    debounce_ms: int = DEFAULT_DEBOUNCE_MS,
    generate: bool = False,
    on_batch: Callable[[WatchBatch], None] | None = None,
) -> WatchResult:
    """Watch until `stop_event` is set; see the module docstring for the events.

    If the watcher itself fails (watchfiles cannot report a path whose name is not UTF-8),
    it is restarted and the tree resynchronised by an incremental scan, so nothing is lost.
    """
    config = config if config is not None else load_config(workspace)
    watcher = _TreeWatcher(workspace, store, emitter, config)
    result = WatchResult()
    announced = False
    while not stop_event.is_set():
        synced = False
        try:
            for raw in _changes(workspace, stop_event, debounce_ms):
                if not announced:
                    announced = True
                    emitter.emit(
                        EventType.WATCH_STARTED,
                        {"root": ROOT, "debounce_ms": debounce_ms, "generate": generate},
                    )
                if not synced:
                    synced = True
                    _count(result, watcher.resync(config), on_batch)
                if raw and not stop_event.is_set():
                    _count(result, _process_batch(watcher, raw, emitter), on_batch)
        except _WatcherFailure as error:
            if not synced:
                raise WorkspaceError(f"cannot watch {workspace.root}: {error}") from error
            log.warning("the file watcher failed (%s); restarting it and rescanning", error)
            continue
        break
    result.reason = getattr(stop_event, "reason", "stopped") if stop_event.is_set() else "ended"
    result.root_id = watcher.index.root_id
    emitter.emit(EventType.WATCH_STOPPED, {"reason": result.reason})
    return result


def _changes(
    workspace: Workspace, stop_event: threading.Event, debounce_ms: int
) -> Iterator[set[tuple[watchfiles.Change, str]]]:
    """Batches of raw changes; an empty batch every `IDLE_YIELD_MS` while idle (the first
    one proves the watcher is live)."""
    yield from watchfiles.watch(
        workspace.root,
        watch_filter=None,
        debounce=debounce_ms,
        step=STEP_MS,
        stop_event=stop_event,
        rust_timeout=IDLE_YIELD_MS,
        yield_on_timeout=True,
        raise_interrupt=False,
        ignore_permission_denied=True,
    )


def _count(
    result: WatchResult, batch: WatchBatch | None, on_batch: Callable[[WatchBatch], None] | None
) -> None:
    if batch is None:
        return
    result.batch_count += 1
    result.change_count += len(batch.changes)
    if on_batch is not None:
        on_batch(batch)


def _process_batch(
    watcher: _TreeWatcher, raw: set[tuple[watchfiles.Change, str]], emitter: Emitter
) -> WatchBatch | None:
    started = time.monotonic()
    changes = watcher.relevant_changes(raw)
    if not changes:
        return None
    for change in changes:
        emitter.emit(EventType.FILE_CHANGED, {"path": change.path, "change": change.change})
    updated = watcher.apply(changes)
    return _report_batch(watcher, emitter, changes, updated, started)


def _report_batch(
    watcher: _TreeWatcher,
    emitter: Emitter,
    changes: list[FileChange],
    updated: list[str],
    started: float,
) -> WatchBatch:
    batch = WatchBatch(
        changes=changes,
        updated_paths=updated,
        root_id=watcher.index.root_id,
        duration_ms=int((time.monotonic() - started) * 1000),
    )
    emitter.emit(
        EventType.BATCH_PROCESSED,
        {
            "change_count": len(changes),
            "nodes_updated": len(updated),
            "root_id": batch.root_id,
            "duration_ms": batch.duration_ms,
        },
    )
    return batch
