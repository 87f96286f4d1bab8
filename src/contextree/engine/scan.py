"""Scanning a workspace (or part of it) into the Merkle tree, incrementally.

`TreeBuilder` walks directories with `os.scandir`, reusing a file's previous record when its
size, mtime and inode are unchanged and hashing it with BLAKE3 otherwise. It follows symbolic
links inside the workspace, never out of it, and reports instead of raising on anything it
cannot take: broken links, link loops, FIFOs, sockets and devices, unreadable entries,
non-UTF-8 names and entries vanishing mid-walk. `scan_workspace` runs a builder, writes the
difference to the store in one transaction and emits the scanner events of SPEC §4.
"""

from __future__ import annotations

import errno
import os
import stat
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import asdict, dataclass, field
from operator import attrgetter
from pathlib import Path
from typing import Any, Protocol

from blake3 import blake3

from contextree.engine.config import Config, load_config
from contextree.engine.ignore import GITIGNORE, IgnoreMatcher, IgnoreRules, read_gitignore
from contextree.engine.tree import (
    FILE,
    META_LAST_SCAN,
    META_SUMMARY,
    ROOT,
    NodeRecord,
    TreeIndex,
    TreeStore,
    diff_records,
    directory_record,
    file_node_id,
    join_path,
    parent_path,
    tree_summary,
)
from contextree.engine.workspace import Workspace
from contextree.errors import UsageError, WorkspaceError
from contextree.progress.event import now_ts

RACY_WINDOW_NS = 2_000_000_000  # files modified this recently are re-read by the next scan
READ_CHUNK = 1 << 20
PARALLEL_HASH_BYTES = 16 << 20
PROGRESS_EVERY = 500
PROGRESS_MIN_INTERVAL_S = 0.1
MAX_DEPTH = 200
SKIPPED_REPORTED = 20


class Emitter(Protocol):
    """Where events go: a progress `Session` or anything with the same `emit`."""

    def emit(self, event_type: str, data: Mapping[str, Any] | None = None, /) -> None: ...


@dataclass(frozen=True)
class Skipped:
    """An entry the tree leaves out for a reason the user should hear about."""

    path: str
    reason: str


@dataclass
class ScanCounts:
    """Running totals of a walk."""

    node_count: int = 0
    file_count: int = 0
    dir_count: int = 0
    bytes_hashed: int = 0
    files_rehashed: int = 0


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


def _reason(error: OSError) -> str:
    if error.errno == errno.ENOENT:
        return "vanished during scan"
    if error.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if error.errno == errno.ELOOP:
        return "symlink loop"
    return f"cannot read: {error.strerror or error}"


def _special_kind(mode: int) -> str:
    for test, kind in ((stat.S_ISFIFO, "fifo"), (stat.S_ISSOCK, "socket")):
        if test(mode):
            return kind
    return "device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "special file"


def valid_name(name: str) -> bool:
    """Whether `name` is real UTF-8 (undecodable bytes arrive as lone surrogates)."""
    if name.isascii():
        return True
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _printable(path: str) -> str:
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


class TreeBuilder:
    """Builds node records for the whole workspace or for single paths.

    `previous` holds the last known records by path; `force` re-reads every file and
    `force_paths` just those paths. Built records collect in `records` (callers reset it
    between subtrees); problems collect in `skipped`.
    """

    def __init__(
        self,
        root: Path,
        rules: IgnoreRules,
        previous: Mapping[str, NodeRecord],
        *,
        force: bool = False,
        force_paths: Collection[str] = (),
        on_progress: Callable[[ScanCounts], None] | None = None,
    ) -> None:
        self.root = str(root)
        self.rules = rules
        self.previous = previous
        self.force = force
        self.force_paths = force_paths
        self.records: dict[str, NodeRecord] = {}
        self.skipped: list[Skipped] = []
        self.counts = ScanCounts()
        self._root_real = os.path.realpath(root)
        self._racy_after_ns = time.time_ns() - RACY_WINDOW_NS
        self._on_progress = on_progress
        self._next_progress = PROGRESS_EVERY
        self._last_progress = 0.0
        self._real_stack: set[str] = set()

    # -- entry points ------------------------------------------------------------------

    def build_root(self) -> NodeRecord:
        """The whole workspace."""
        try:
            inode = os.stat(self.root).st_ino
        except OSError as error:
            raise WorkspaceError(f"cannot read workspace {self.root}: {error.strerror}") from None
        record = self._directory(ROOT, self.root, self.rules.base_matcher(), inode, ROOT, None)
        if record is None:
            raise WorkspaceError(f"cannot list workspace {self.root} — check its permissions")
        return record

    def build_subtree(self, path: str) -> dict[str, NodeRecord]:
        """The records at and under `path`, fresh (empty when it is gone or left out)."""
        self.records = {}
        if self.build_path(path) is None:
            self.records = {}
        return self.records

    def build_path(self, path: str) -> NodeRecord | None:
        """The node at `path` and its subtree; None when it is gone, ignored or skipped."""
        if path == ROOT:
            return self.build_root()
        name = path.rpartition("/")[2]
        matcher = self.rules.matcher_for(parent_path(path))
        if matcher is None:
            return None
        full = os.path.join(self.root, path)
        try:
            info = os.lstat(full)
        except OSError as error:
            if error.errno not in (errno.ENOENT, errno.ENOTDIR):
                self._skip(path, _reason(error))
            return None
        if stat.S_ISLNK(info.st_mode):
            return self._symlink(path, full, name, matcher)
        is_dir = stat.S_ISDIR(info.st_mode)
        if matcher.is_ignored(path, name, is_dir):
            return None
        if not valid_name(path):
            self._skip(path, "name is not valid UTF-8")
            return None
        if not is_dir:
            return self._file(path, full, info, None)
        self._real_stack = self._real_ancestors(path)
        real = self._relative_real(full) or path
        return self._directory(path, full, matcher, info.st_ino, real, None)

    # -- the walk ----------------------------------------------------------------------

    def _directory(
        self,
        path: str,
        full: str,
        parent_matcher: IgnoreMatcher,
        inode: int,
        real: str,
        symlink: str | None,
    ) -> NodeRecord | None:
        if len(self._real_stack) > MAX_DEPTH:
            self._skip(path, f"nested deeper than {MAX_DEPTH} directories")
            return None
        try:
            with os.scandir(full) as listing:
                entries = list(listing)
        except OSError as error:
            self._skip(path, _reason(error))
            return None
        has_gitignore = any(entry.name == GITIGNORE for entry in entries)
        matcher = parent_matcher.enter(path, read_gitignore(Path(full)) if has_gitignore else None)
        self._real_stack.add(real)
        try:
            children = self._children(entries, path, real, matcher)
        finally:
            self._real_stack.discard(real)
        children.sort(key=attrgetter("path"))
        previous = self.previous.get(path)
        if (
            previous is not None
            and previous.children == tuple(child.id for child in children)
            and previous.inode == inode
            and previous.symlink == symlink
            and previous.size == sum(child.size for child in children)
            and previous.mtime_ns == max((child.mtime_ns for child in children), default=0)
        ):
            record = previous
        else:
            record = directory_record(path, children, inode=inode, symlink=symlink)
        self.records[path] = record
        self.counts.dir_count += 1
        self._count_node()
        return record

    def _children(
        self, entries: list[os.DirEntry[str]], parent: str, parent_real: str, matcher: IgnoreMatcher
    ) -> list[NodeRecord]:
        prefix = "" if parent == ROOT else parent + "/"
        children = []
        for entry in entries:
            record = self._entry(entry, prefix + entry.name, parent_real, matcher)
            if record is not None:
                children.append(record)
        return children

    def _entry(
        self, entry: os.DirEntry[str], path: str, parent_real: str, matcher: IgnoreMatcher
    ) -> NodeRecord | None:
        name = entry.name
        try:
            if entry.is_symlink():
                return self._symlink(path, entry.path, name, matcher)
            is_dir = entry.is_dir(follow_symlinks=False)
            if matcher.is_ignored(path, name, is_dir):
                return None
            if not (name.isascii() or valid_name(name)):
                self._skip(path, "name is not valid UTF-8")
                return None
            if is_dir:
                real = join_path(parent_real, name)
                return self._directory(path, entry.path, matcher, entry.inode(), real, None)
            return self._file(path, entry.path, entry.stat(follow_symlinks=False), None)
        except OSError as error:
            self._skip(path, _reason(error))
            return None

    def _symlink(
        self, path: str, full: str, name: str, matcher: IgnoreMatcher
    ) -> NodeRecord | None:
        if matcher.is_ignored(path, name, False):
            return None
        if not valid_name(path):
            self._skip(path, "name is not valid UTF-8")
            return None
        try:
            info = os.stat(full)
        except OSError as error:
            broken = error.errno in (errno.ENOENT, errno.ENOTDIR)
            self._skip(path, "broken symlink" if broken else _reason(error))
            return None
        target = self._relative_real(full)
        if target is None:
            self._skip(path, "symlink points outside the workspace")
            return None
        is_dir = stat.S_ISDIR(info.st_mode)
        if is_dir and matcher.is_ignored(path, name, True):
            return None
        if self.rules.is_ignored(target, is_dir):
            self._skip(path, f"symlink to ignored path {target}")
            return None
        if not is_dir:
            return self._file(path, full, info, target)
        if target in self._real_stack:
            self._skip(path, "symlink loop")
            return None
        return self._directory(path, full, matcher, info.st_ino, target, target)

    def _file(
        self, path: str, full: str, info: os.stat_result, symlink: str | None
    ) -> NodeRecord | None:
        if not stat.S_ISREG(info.st_mode):
            self._skip(path, f"not a regular file ({_special_kind(info.st_mode)})")
            return None
        previous = self.previous.get(path)
        if (
            previous is not None
            and not self.force
            and previous.mtime_ns == info.st_mtime_ns
            and previous.size == info.st_size
            and previous.inode == info.st_ino
            and not previous.racy
            and previous.type == FILE
            and previous.symlink == symlink
            and path not in self.force_paths
        ):
            record = previous
        else:
            hashed = self._hashed_file(path, full, symlink, previous)
            if hashed is None:
                return None
            record = hashed
        self.records[path] = record
        self.counts.file_count += 1
        self._count_node()
        return record

    def _hashed_file(
        self, path: str, full: str, symlink: str | None, previous: NodeRecord | None
    ) -> NodeRecord | None:
        flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | (0 if symlink else os.O_NOFOLLOW)
        try:
            fd = os.open(full, flags)
        except OSError as error:
            self._skip(path, _reason(error))
            return None
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                self._skip(path, f"not a regular file ({_special_kind(info.st_mode)})")
                return None
            content_hash, size_read = _hash_descriptor(fd, info.st_size)
        except OSError as error:
            self._skip(path, _reason(error))
            return None
        finally:
            os.close(fd)
        self.counts.bytes_hashed += size_read
        self.counts.files_rehashed += 1
        record = NodeRecord(
            id=file_node_id(path, content_hash),
            path=path,
            type=FILE,
            size=info.st_size,
            mtime_ns=info.st_mtime_ns,
            inode=info.st_ino,
            content_hash=content_hash,
            symlink=symlink,
            racy=info.st_mtime_ns >= self._racy_after_ns,
        )
        return previous if previous == record else record

    # -- helpers -----------------------------------------------------------------------

    def _relative_real(self, full: str) -> str | None:
        real = os.path.realpath(full)
        if real == self._root_real:
            return ROOT
        if real.startswith(self._root_real + os.sep):
            return real[len(self._root_real) + 1 :].replace(os.sep, "/")
        return None

    def _real_ancestors(self, path: str) -> set[str]:
        ancestors = {ROOT}
        while (path := parent_path(path)) != ROOT:
            ancestors.add(self._relative_real(os.path.join(self.root, path)) or path)
        return ancestors

    def _skip(self, path: str, reason: str) -> None:
        self.skipped.append(Skipped(_printable(path), reason))

    def _count_node(self) -> None:
        self.counts.node_count += 1
        if self.counts.node_count >= self._next_progress:
            self._report_progress()

    def _report_progress(self) -> None:
        """Report every `PROGRESS_EVERY` nodes, at most every `PROGRESS_MIN_INTERVAL_S`."""
        self._next_progress = self.counts.node_count + PROGRESS_EVERY
        now = time.monotonic()
        if self._on_progress is not None and now - self._last_progress >= PROGRESS_MIN_INTERVAL_S:
            self._last_progress = now
            self._on_progress(self.counts)


def _hash_descriptor(fd: int, size_hint: int) -> tuple[str, int]:
    """BLAKE3 of everything readable from `fd`, streamed in chunks, and the bytes read.

    Reads ask for one byte more than the expected size (at most `READ_CHUNK`), so a file
    that has not grown is read with a single call: a short read means end of file.
    """
    hasher = blake3(max_threads=blake3.AUTO) if size_hint >= PARALLEL_HASH_BYTES else blake3()
    total = 0
    request = min(size_hint + 1, READ_CHUNK)
    while chunk := os.read(fd, request):
        hasher.update(chunk)
        total += len(chunk)
        if len(chunk) < request:
            break
        request = READ_CHUNK
    return hasher.hexdigest(), total


# --- scanning a workspace -----------------------------------------------------------------


def resolve_target(workspace: Workspace, path: str | os.PathLike[str] | None) -> str:
    """`path` as a workspace-relative path (see `Workspace.relative_path`)."""
    return workspace.relative_path(path)


def scan_workspace(
    workspace: Workspace,
    store: Any,
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
    emitter.emit("scan_started", {"root": target, "force": force})
    last_reported: dict[str, int] = {}

    def progress(counts: ScanCounts) -> None:
        last_reported.update(_progress_data(counts))
        emitter.emit("scan_progress", dict(last_reported))

    rules = IgnoreRules.for_workspace(workspace, config.ignore_patterns)
    builder = TreeBuilder(workspace.root, rules, previous, force=force, on_progress=progress)
    if target == ROOT:
        builder.build_root()
        records = builder.records
        changes = diff_records(previous, records)
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
            META_SUMMARY: tree_summary(records, updated_at=finished_at, by="scan"),
            META_LAST_SCAN: last_scan,
        },
    )
    emitter.emit("scan_completed", result.event_data())
    return result


def _progress_data(counts: ScanCounts) -> dict[str, int]:
    return {
        "node_count": counts.node_count,
        "file_count": counts.file_count,
        "dir_count": counts.dir_count,
        "bytes_hashed": counts.bytes_hashed,
    }
