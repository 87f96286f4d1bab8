"""Scanning: events, incremental re-reads, subpaths, and every kind of awkward entry."""

from __future__ import annotations

import dataclasses
import errno
import itertools
import os
import socket
import stat
import sys
from pathlib import Path
from typing import Any

import click
import lmdb
import pytest
from blake3 import blake3

from contextree.engine.workspace import builder as builder_module
from contextree.engine.workspace import entries as entries_module
from contextree.engine.workspace.config import Config
from contextree.engine.workspace.layout import Workspace
from contextree.engine.workspace.scan import scan_workspace
from contextree.engine.workspace.tree import ROOT, TreeStore
from contextree.errors import UsageError, WorkspaceError
from contextree.progress import EventStore

from .helpers import RecordingEmitter, fresh_ids, scan, stored_files, stored_ids, write


def small_tree(root: Path) -> None:
    write(root, "src/app.py", "def main():\n    return 1\n")
    write(root, "src/util/strings.py", "X = 'x'\n")
    write(root, "README.md", "# project\n")
    write(root, "docs/guide.md", "guide\n")


def skipped_reasons(result: Any) -> dict[str, str]:
    return {item.path: item.reason for item in result.skipped}


# --- events -------------------------------------------------------------------------------


def test_scan_emits_started_progress_and_completed(
    workspace: Workspace, store: EventStore, config: Config
) -> None:
    small_tree(workspace.root)
    result, events = scan(workspace, store, config)
    assert events.types()[0] == "scan_started" and events.types()[-1] == "scan_completed"
    assert events.of("scan_started") == [{"root": ".", "force": False}]
    (completed,) = events.of("scan_completed")
    assert completed["file_count"] == 4 and completed["dir_count"] == 4
    assert completed["node_count"] == 8 and completed["files_rehashed"] == 4
    assert completed["bytes_hashed"] == sum(
        len(p.read_bytes()) for p in workspace.root.rglob("*") if p.is_file()
    )
    assert completed["changed"] is True and completed["skipped_count"] == 0
    assert completed["root_id"] == result.root_id == stored_ids(store)[ROOT]
    assert isinstance(completed["duration_ms"], int)
    progress = events.of("scan_progress")
    assert progress[-1] == {k: completed[k] for k in progress[-1]}


def test_progress_is_monotonic_on_a_cadence_and_ends_at_the_totals(
    workspace: Workspace, store: EventStore, config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    for index in range(1234):
        write(workspace.root, f"d{index % 7}/f{index}.txt", str(index))
    monkeypatch.setattr(builder_module, "PROGRESS_MIN_INTERVAL_S", 0.0)
    _, events = scan(workspace, store, config)
    counts = [data["node_count"] for data in events.of("scan_progress")]
    assert counts[:2] == [500, 1000] and counts[-1] == 1234 + 7 + 1
    for key in ("node_count", "file_count", "dir_count", "bytes_hashed"):
        values = [data[key] for data in events.of("scan_progress")]
        assert values == sorted(values)


def test_progress_is_throttled_to_ten_per_second(
    workspace: Workspace, store: EventStore, config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(builder_module, "PROGRESS_EVERY", 1)
    for index in range(300):
        write(workspace.root, f"f{index}.txt", "x")
    _, events = scan(workspace, store, config)
    times = [at for kind, _, at in events.events if kind == "scan_progress"][:-1]
    assert len(times) < 300
    assert all(later - earlier >= 0.1 for earlier, later in itertools.pairwise(times))


# --- incremental --------------------------------------------------------------------------


def test_an_unchanged_rescan_reads_nothing_and_reports_no_change(
    workspace: Workspace, store: EventStore, config: Config
) -> None:
    small_tree(workspace.root)
    first, _ = scan(workspace, store, config)
    before = TreeStore(store).load_records()
    second, events = scan(workspace, store, config)
    assert second.counts.files_rehashed == 0 and second.counts.bytes_hashed == 0
    assert second.changed is False and second.root_id == first.root_id
    assert events.of("scan_completed")[0]["changed"] is False
    assert TreeStore(store).load_records() == before


def test_a_file_with_unchanged_stat_is_not_reread_unless_forced(
    workspace: Workspace, store: EventStore, config: Config
) -> None:
    path = write(workspace.root, "a.txt", "aaaa")
    first, _ = scan(workspace, store, config)
    mtime_ns = path.stat().st_mtime_ns
    with path.open("r+") as handle:  # same inode, same size, then the old mtime back
        handle.write("bbbb")
    os.utime(path, ns=(mtime_ns, mtime_ns))
    assert scan(workspace, store, config)[0].root_id == first.root_id
    forced, events = scan(workspace, store, config, force=True)
    assert events.of("scan_started") == [{"root": ".", "force": True}]
    assert forced.changed is True and forced.counts.files_rehashed == 1
    assert TreeStore(store).node_at("a.txt").content_hash == blake3(b"bbbb").hexdigest()  # type: ignore[union-attr]


def test_a_recently_modified_file_is_reread_by_the_next_scan(
    workspace: Workspace, store: EventStore, config: Config
) -> None:
    path = write(workspace.root, "racy.txt", "1111", backdate=False)
    scan(workspace, store, config)
    mtime_ns = path.stat().st_mtime_ns
    with path.open("r+") as handle:
        handle.write("2222")
    os.utime(path, ns=(mtime_ns, mtime_ns))  # indistinguishable by stat
    second, _ = scan(workspace, store, config)
    assert second.changed is True and second.counts.files_rehashed == 1


def test_edits_additions_and_deletions_update_the_tree(
    workspace: Workspace, store: EventStore, config: Config, tmp_path: Path
) -> None:
    small_tree(workspace.root)
    scan(workspace, store, config)
    before = stored_ids(store)
    write(workspace.root, "src/app.py", "def main():\n    return 22\n")
    write(workspace.root, "src/new/module.py", "pass\n")
    (workspace.root / "docs" / "guide.md").unlink()
    second, _ = scan(workspace, store, config)
    after = stored_ids(store)
    assert second.changed is True and second.counts.files_rehashed == 2
    assert after == fresh_ids(workspace, config, tmp_path)
    assert "docs/guide.md" not in after and "src/new/module.py" in after
    assert after["README.md"] == before["README.md"]
    assert after["src/util"] == before["src/util"]
    assert after["src"] != before["src"] and after["docs"] != before["docs"]


# --- subpaths -----------------------------------------------------------------------------


def test_scanning_a_subpath_updates_only_that_subtree_and_its_ancestors(
    workspace: Workspace, store: EventStore, config: Config, tmp_path: Path
) -> None:
    small_tree(workspace.root)
    scan(workspace, store, config)
    before = stored_ids(store)
    write(workspace.root, "src/util/strings.py", "X = 'changed'\n")
    write(workspace.root, "docs/guide.md", "changed guide\n")
    result, events = scan(workspace, store, config, path="src")
    assert events.of("scan_started") == [{"root": "src", "force": False}]
    assert result.root == "src" and result.counts.files_rehashed == 1
    after = stored_ids(store)
    assert after["src/util/strings.py"] != before["src/util/strings.py"]
    assert after["docs/guide.md"] == before["docs/guide.md"]
    assert after[ROOT] == result.root_id != before[ROOT]
    scan(workspace, store, config)
    assert stored_ids(store) == fresh_ids(workspace, config, tmp_path)


def test_scanning_a_new_nested_path_adds_its_missing_parents(
    workspace: Workspace, store: EventStore, config: Config, tmp_path: Path
) -> None:
    small_tree(workspace.root)
    scan(workspace, store, config)
    write(workspace.root, "fresh/deeper/file.txt", "x")
    scan(workspace, store, config, path=str(workspace.root / "fresh" / "deeper"))
    assert stored_ids(store) == fresh_ids(workspace, config, tmp_path)


def test_the_first_scan_of_a_subpath_scans_everything(
    workspace: Workspace, store: EventStore, config: Config
) -> None:
    small_tree(workspace.root)
    result, events = scan(workspace, store, config, path="src")
    assert result.root == ROOT and events.of("scan_started")[0]["root"] == ROOT
    assert "docs/guide.md" in stored_files(store)


def test_bad_subpaths_are_refused(
    workspace: Workspace, store: EventStore, config: Config, tmp_path: Path
) -> None:
    small_tree(workspace.root)
    scan(workspace, store, config)
    with pytest.raises(WorkspaceError, match="outside the workspace"):
        scan(workspace, store, config, path=str(tmp_path))
    with pytest.raises(WorkspaceError, match="outside the workspace"):
        scan(workspace, store, config, path="../elsewhere")
    with pytest.raises(WorkspaceError, match="does not exist"):
        scan(workspace, store, config, path="missing")
    write(workspace.root, "node_modules/x.js", "x")
    with pytest.raises(UsageError, match="is ignored"):
        scan(workspace, store, config, path="node_modules")


# --- what the tree leaves out -------------------------------------------------------------


def test_ignored_paths_and_the_store_are_left_out(
    workspace: Workspace, config: Config, tmp_path: Path
) -> None:
    small_tree(workspace.root)
    write(workspace.root, ".gitignore", "*.log\n")
    write(workspace.root, "debug.log", "x")
    write(workspace.root, ".git/HEAD", "ref")
    write(workspace.root, ".ctree/config.toml", "")
    write(workspace.root, "web/node_modules/pkg/index.js", "x")
    inside = Workspace(root=workspace.root, store_path=workspace.root / "data" / "store")
    store = EventStore.open(inside.store_path)
    try:
        scan(inside, store, config)
        files, ids = stored_files(store), stored_ids(store)
    finally:
        store.close()
    assert files == {"src/app.py", "src/util/strings.py", "README.md", "docs/guide.md",
                     ".gitignore"}
    assert "data" in ids and "data/store" not in ids and "web/node_modules" not in ids


def test_config_ignore_patterns_apply(workspace: Workspace, store: EventStore,
                                      config: Config) -> None:
    small_tree(workspace.root)
    custom = dataclasses.replace(config, ignore_patterns=("docs/", "*.md"))
    scan(workspace, store, custom)
    assert stored_files(store) == {"src/app.py", "src/util/strings.py"}


# --- awkward entries ----------------------------------------------------------------------


def test_symlinks_inside_are_followed_and_others_reported(
    workspace: Workspace, store: EventStore, config: Config, tmp_path: Path
) -> None:
    small_tree(workspace.root)
    root = workspace.root
    outside = write(tmp_path, "outside/secret.txt", "secret")
    (root / "link.py").symlink_to("src/app.py")
    (root / "alias").symlink_to("src/util")
    (root / "broken").symlink_to("nowhere")
    (root / "self").symlink_to("self")
    (root / "out").symlink_to(outside)
    (root / "outdir").symlink_to(outside.parent)
    (root / "src" / "up").symlink_to("..")
    (root / "hidden").symlink_to(".git")
    write(root, ".git/config", "x")
    result, events = scan(workspace, store, config)
    records = TreeStore(store).load_records()
    assert records["link.py"].content_hash == records["src/app.py"].content_hash
    assert records["link.py"].symlink == "src/app.py"
    assert records["alias/strings.py"].content_hash == records["src/util/strings.py"].content_hash
    assert records["alias"].symlink == "src/util"
    assert skipped_reasons(result) == {
        "broken": "broken symlink",
        "self": "symlink loop",
        "out": "symlink points outside the workspace",
        "outdir": "symlink points outside the workspace",
        "src/up": "symlink loop",
        "hidden": "symlink to ignored path .git",
    }
    (completed,) = events.of("scan_completed")
    assert completed["skipped_count"] == 6
    assert {"path": "broken", "reason": "broken symlink"} in completed["skipped"]
    assert not any("secret" in path for path in records)


def test_mutual_directory_links_terminate(
    workspace: Workspace, store: EventStore, config: Config
) -> None:
    write(workspace.root, "a/x.txt", "a")
    write(workspace.root, "b/y.txt", "b")
    (workspace.root / "a" / "to_b").symlink_to("../b")
    (workspace.root / "b" / "to_a").symlink_to("../a")
    result, _ = scan(workspace, store, config)
    records = TreeStore(store).load_records()
    assert "a/to_b/y.txt" in records and "b/to_a/x.txt" in records
    assert "a/to_b/to_a" not in records
    assert skipped_reasons(result) == {"a/to_b/to_a": "symlink loop", "b/to_a/to_b": "symlink loop"}


def test_special_files_and_bad_names_are_reported(
    workspace: Workspace, store: EventStore, config: Config
) -> None:
    small_tree(workspace.root)
    root = workspace.root
    os.mkfifo(root / "pipe")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(root / "sock"))
    fd = os.open(os.fsencode(root) + b"/bad\xff.txt", os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)
    try:
        result, _ = scan(workspace, store, config)
    finally:
        server.close()
    assert skipped_reasons(result) == {
        "pipe": "not a regular file (fifo)",
        "sock": "not a regular file (socket)",
        "bad\ufffd.txt": "name is not valid UTF-8",
    }
    assert stored_files(store) == {"src/app.py", "src/util/strings.py", "README.md",
                                   "docs/guide.md"}


def test_a_device_node_is_reported(
    workspace: Workspace, store: EventStore, config: Config
) -> None:
    try:
        os.mknod(workspace.root / "null", stat.S_IFCHR | 0o600, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("creating device nodes needs CAP_MKNOD")
    result, _ = scan(workspace, store, config)
    assert skipped_reasons(result) == {"null": "not a regular file (device)"}


def test_unreadable_and_vanishing_entries_are_reported(
    workspace: Workspace, store: EventStore, config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    small_tree(workspace.root)
    write(workspace.root, "locked.txt", "x")
    write(workspace.root, "vanish.txt", "x")
    write(workspace.root, "closed/inner.txt", "x")
    real_open = os.open

    def fake_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if str(path).endswith(("locked.txt", "closed")):  # a directory is opened to be listed
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        if str(path).endswith("vanish.txt"):
            os.unlink(path)
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(entries_module.os, "open", fake_open)
    result, _ = scan(workspace, store, config)
    assert skipped_reasons(result) == {
        "locked.txt": "permission denied",
        "vanish.txt": "vanished during scan",
        "closed": "permission denied",
    }
    assert result.root_id == stored_ids(store)[ROOT]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_files_without_read_permission_are_reported(
    workspace: Workspace, store: EventStore, config: Config
) -> None:
    path = write(workspace.root, "private.txt", "x")
    path.chmod(0)
    try:
        result, _ = scan(workspace, store, config)
    finally:
        path.chmod(0o600)
    assert skipped_reasons(result) == {"private.txt": "permission denied"}


def test_large_files_are_hashed_in_chunks(
    workspace: Workspace, store: EventStore, config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    write(workspace.root, "big.bin", data)
    monkeypatch.setattr(entries_module, "READ_CHUNK", 64 * 1024)
    monkeypatch.setattr(entries_module, "PARALLEL_HASH_BYTES", 1024 * 1024)
    reads: list[int] = []
    real_read = os.read

    def counting_read(fd: int, size: int) -> bytes:
        reads.append(size)
        return real_read(fd, size)

    monkeypatch.setattr(entries_module.os, "read", counting_read)
    result, _ = scan(workspace, store, config)
    assert TreeStore(store).node_at("big.bin").content_hash == blake3(data).hexdigest()  # type: ignore[union-attr]
    assert result.counts.bytes_hashed == len(data)
    assert len(reads) >= len(data) // (64 * 1024) and max(reads) == 64 * 1024


# --- real trees ---------------------------------------------------------------------------


def test_a_real_tree_scans_and_rescans_without_change(config: Config, tmp_path: Path) -> None:
    site_packages = Path(click.__file__).resolve().parents[1]
    workspace = Workspace(root=site_packages, store_path=tmp_path / "store")
    env = lmdb.open(str(tmp_path / "store"), max_dbs=8, map_size=256 << 20)
    try:
        first = scan_workspace(workspace, env, RecordingEmitter(), config=config)
        second = scan_workspace(workspace, env, RecordingEmitter(), config=config)
    finally:
        env.close()
    assert first.counts.file_count > 1000, f"{site_packages} looks too small"
    assert second.changed is False and second.root_id == first.root_id
    assert second.counts.files_rehashed == 0
    assert second.counts.node_count == first.counts.node_count
    assert sys.prefix  # the venv this test runs in is what was scanned
