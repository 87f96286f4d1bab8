"""Watch: real file edits under a running watcher; the tree must match a fresh forced scan."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from contextree.engine.workspace.config import Config
from contextree.engine.workspace.layout import Workspace
from contextree.engine.workspace.tree import ROOT, TreeStore
from contextree.engine.workspace.watch import WatchBatch, WatchResult, WatchStop, watch_workspace
from contextree.progress import EventStore

from .helpers import RecordingEmitter, fresh_ids, scan, stored_ids, write


@dataclass
class RunningWatch:
    emitter: RecordingEmitter
    stop: WatchStop
    batches: list[WatchBatch] = field(default_factory=list)
    outcome: dict[str, Any] = field(default_factory=dict)

    def wait_for_root(self, root_id: str) -> None:
        self.emitter.wait_for(
            lambda e: any(b["root_id"] == root_id for b in e.of("batch_processed"))
            or "test_thread_failed" in e.types()
        )
        if "error" in self.outcome:
            raise self.outcome["error"]

    def wait_for_path(self, path: str) -> None:
        self.emitter.wait_for(
            lambda e: any(c["path"] == path for c in e.of("file_changed"))
            and len(e.of("batch_processed")) > 0
            and e.types()[-1] != "file_changed"
        )


@contextmanager
def watching(workspace: Workspace, store: Any, config: Config) -> Iterator[RunningWatch]:
    running = RunningWatch(RecordingEmitter(), WatchStop())

    def run() -> None:
        try:
            running.outcome["result"] = watch_workspace(
                workspace, store, running.emitter, stop_event=running.stop, config=config,
                debounce_ms=50, on_batch=running.batches.append,
            )
        except BaseException as error:  # surfaced by the test thread below
            running.outcome["error"] = error
            running.emitter.emit("test_thread_failed", {"error": repr(error)})

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    running.emitter.wait_for(
        lambda e: "scan_completed" in e.types() or "test_thread_failed" in e.types()
    )
    try:
        yield running
    finally:
        running.stop.stop("test finished")
        thread.join(15)
        assert not thread.is_alive(), "the watcher did not stop"
    if "error" in running.outcome:
        raise running.outcome["error"]


def converge(running: RunningWatch, workspace: Workspace, store: Any, config: Config,
             tmp_path: Path) -> None:
    expected = fresh_ids(workspace, config, tmp_path)
    running.wait_for_root(expected[ROOT])
    assert stored_ids(store) == expected
    with store.read() as txn:  # no orphan records: one node per path
        nodes = txn.stat(store.open_db("nodes"))["entries"]
        paths = txn.stat(store.open_db("paths"))["entries"]
    assert nodes == paths == len(expected)


def test_start_catches_up_then_stop_reports_the_reason(
    workspace: Workspace, store: EventStore, config: Config
) -> None:
    write(workspace.root, "a.txt", "a")
    scan(workspace, store, config)
    write(workspace.root, "a.txt", "changed")
    with watching(workspace, store, config) as running:
        pass
    types = running.emitter.types()
    assert types[:2] == ["watch_started", "scan_started"] and types[-1] == "watch_stopped"
    assert running.emitter.of("watch_started") == [
        {"root": ".", "debounce_ms": 50, "generate": False}
    ]
    assert running.emitter.of("scan_completed")[0]["changed"] is True  # stale tree caught up
    assert running.emitter.of("file_changed") == [{"path": "a.txt", "change": "modified"}]
    assert [b.updated_paths for b in running.batches] == [[".", "a.txt"]]  # the catch-up batch
    assert running.emitter.of("watch_stopped") == [{"reason": "test finished"}]
    result = running.outcome["result"]
    assert isinstance(result, WatchResult) and result.reason == "test finished"
    assert result.root_id == stored_ids(store)[ROOT]


def test_any_edit_sequence_ends_equal_to_a_fresh_forced_scan(
    workspace: Workspace, store: EventStore, config: Config, tmp_path: Path
) -> None:
    root = workspace.root
    write(root, "src/app.py", "print(1)\n")
    write(root, "src/lib/util.py", "X = 1\n")
    write(root, "docs/guide.md", "guide\n")
    with watching(workspace, store, config) as running:
        write(root, "src/app.py", "print(2)\n", backdate=False)
        write(root, "new/deep/er/file.txt", "new", backdate=False)
        (root / "docs" / "guide.md").unlink()
        converge(running, workspace, store, config, tmp_path)

        (root / "src" / "lib").rename(root / "src" / "library")
        (root / "src" / "app.py").rename(root / "main.py")
        (root / "empty").mkdir()
        converge(running, workspace, store, config, tmp_path)

        for text in ("aaaa", "bbbb", "cccc"):  # same size, likely the same mtime tick
            write(root, "main.py", text, backdate=False)
        (root / "new" / "deep" / "er" / "file.txt").unlink()
        (root / "new" / "deep" / "er").rmdir()
        converge(running, workspace, store, config, tmp_path)
    assert len(running.emitter.of("batch_processed")) >= 3


def test_changes_are_reported_by_kind(
    workspace: Workspace, store: EventStore, config: Config, tmp_path: Path
) -> None:
    write(workspace.root, "keep.txt", "k")
    with watching(workspace, store, config) as running:
        write(workspace.root, "a.txt", "1", backdate=False)
        converge(running, workspace, store, config, tmp_path)
        write(workspace.root, "a.txt", "22", backdate=False)
        converge(running, workspace, store, config, tmp_path)
        (workspace.root / "a.txt").unlink()
        converge(running, workspace, store, config, tmp_path)
    kinds = [c["change"] for c in running.emitter.of("file_changed") if c["path"] == "a.txt"]
    assert kinds[0] == "added" and kinds[-1] == "deleted" and "modified" in kinds
    (first, *_) = running.emitter.of("batch_processed")
    assert first["change_count"] == 1 and first["nodes_updated"] == 2  # a.txt and the root
    assert isinstance(first["duration_ms"], int)


def test_ignored_and_private_paths_are_filtered_out(
    workspace: Workspace, store: EventStore, config: Config, tmp_path: Path
) -> None:
    write(workspace.root, ".gitignore", "*.log\n")
    with watching(workspace, store, config) as running:
        write(workspace.root, "node_modules/pkg/index.js", "x", backdate=False)
        write(workspace.root, ".ctree/notes.txt", "x", backdate=False)
        write(workspace.root, ".git/HEAD", "x", backdate=False)
        write(workspace.root, "debug.log", "x", backdate=False)
        write(workspace.root, "sentinel.txt", "x", backdate=False)
        converge(running, workspace, store, config, tmp_path)
    assert {c["path"] for c in running.emitter.of("file_changed")} == {"sentinel.txt"}


def test_editing_a_gitignore_reshapes_the_tree(
    workspace: Workspace, store: EventStore, config: Config, tmp_path: Path
) -> None:
    write(workspace.root, "sub/a.tmp", "a")
    write(workspace.root, "sub/b.txt", "b")
    with watching(workspace, store, config) as running:
        write(workspace.root, "sub/.gitignore", "*.tmp\n", backdate=False)
        converge(running, workspace, store, config, tmp_path)
        assert "sub/a.tmp" not in stored_ids(store)
        (workspace.root / "sub" / ".gitignore").unlink()
        converge(running, workspace, store, config, tmp_path)
        assert "sub/a.tmp" in stored_ids(store)


def test_a_symlinked_directory_follows_its_target(
    workspace: Workspace, store: EventStore, config: Config, tmp_path: Path
) -> None:
    write(workspace.root, "real/x.txt", "1")
    (workspace.root / "alias").symlink_to("real")
    (workspace.root / "file_alias").symlink_to("real/x.txt")
    with watching(workspace, store, config) as running:
        write(workspace.root, "real/x.txt", "22", backdate=False)
        write(workspace.root, "real/y.txt", "3", backdate=False)
        converge(running, workspace, store, config, tmp_path)
    records = TreeStore(store).load_records()
    assert records["alias/x.txt"].content_hash == records["real/x.txt"].content_hash
    assert records["file_alias"].content_hash == records["real/x.txt"].content_hash
    assert "alias/y.txt" in records


def test_on_batch_receives_changes_and_every_updated_path(
    workspace: Workspace, store: EventStore, config: Config, tmp_path: Path
) -> None:
    write(workspace.root, "pkg/mod/a.py", "a")
    write(workspace.root, "other.py", "o")
    with watching(workspace, store, config) as running:
        write(workspace.root, "pkg/mod/a.py", "changed", backdate=False)
        converge(running, workspace, store, config, tmp_path)
    first = running.batches[0]  # a slow writer may split one edit over two batches
    assert [(c.path, c.change) for c in first.changes] == [("pkg/mod/a.py", "modified")]
    assert first.updated_paths == [".", "pkg", "pkg/mod", "pkg/mod/a.py"]
    assert running.batches[-1].root_id == stored_ids(store)[ROOT]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_special_files_appearing_are_left_out(
    workspace: Workspace, store: EventStore, config: Config, tmp_path: Path
) -> None:
    write(workspace.root, "a.txt", "a")
    with watching(workspace, store, config) as running:
        os.mkfifo(workspace.root / "pipe")
        write(workspace.root, "b.txt", "b", backdate=False)
        converge(running, workspace, store, config, tmp_path)
    assert "pipe" not in stored_ids(store)


def test_a_scan_by_someone_else_while_watching_is_picked_up(
    workspace: Workspace, store: EventStore, config: Config, tmp_path: Path
) -> None:
    write(workspace.root, "a.txt", "a")
    with watching(workspace, store, config) as running:
        write(workspace.root, "b.txt", "b", backdate=False)
        scan(workspace, store, config)  # writes the tree under the watcher's feet
        converge(running, workspace, store, config, tmp_path)
        write(workspace.root, "b.txt", "bb", backdate=False)
        write(workspace.root, "c.txt", "c", backdate=False)
        converge(running, workspace, store, config, tmp_path)


def test_undecodable_names_do_not_disturb_the_watch(
    workspace: Workspace, store: EventStore, config: Config, tmp_path: Path
) -> None:
    write(workspace.root, "a.txt", "a")
    with watching(workspace, store, config) as running:
        fd = os.open(os.fsencode(workspace.root) + b"/bad\xff.txt", os.O_CREAT | os.O_WRONLY)
        os.close(fd)
        write(workspace.root, "sentinel.txt", "s", backdate=False)
        converge(running, workspace, store, config, tmp_path)
    assert {c["path"] for c in running.emitter.of("file_changed")} == {"sentinel.txt"}
