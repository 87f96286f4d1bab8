"""Building node records from the file system: the walk behind every scan.

`TreeBuilder` lists directories with `os.scandir`, taking a file's previous record as it is
when its size, mtime and inode are unchanged (one `lstat`, no read) and hashing it with BLAKE3
otherwise; a directory whose children, size and mtime still match keeps its own previous
record, so an unchanged tree is walked without creating a single record. It follows symbolic
links inside the workspace, never out of it, and reports instead of raising on anything it
cannot take: broken links, link loops, FIFOs, sockets and devices, unreadable entries,
non-UTF-8 names and entries vanishing mid-walk.
"""

from __future__ import annotations

import errno
import os
import stat
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path

from contextree.engine.workspace.entries import (
    error_reason,
    hash_file,
    list_directory,
    not_regular_reason,
    printable,
    valid_name,
)
from contextree.engine.workspace.ignore import (
    BUILTIN_IGNORED_NAMES,
    GITIGNORE,
    IgnoreMatcher,
    IgnoreRules,
    read_gitignore,
)
from contextree.engine.workspace.tree import (
    DIRECTORY,
    FILE,
    ROOT,
    NodeRecord,
    directory_record,
    file_node_id,
    join_path,
    parent_path,
)
from contextree.errors import WorkspaceError

RACY_WINDOW_NS = 2_000_000_000  # files modified this recently are re-read by the next scan
PROGRESS_EVERY = 500
PROGRESS_MIN_INTERVAL_S = 0.1
MAX_DEPTH = 200

_path_of = attrgetter("path")
_id_of = attrgetter("id")
_size_of = attrgetter("size")
_mtime_of = attrgetter("mtime_ns")


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


class TreeBuilder:
    """Builds node records for the whole workspace or for single paths.

    `previous` holds the last known records by path; `force` re-reads every file and
    `force_paths` just those paths. Built records collect in `records` (callers reset it
    between subtrees) and the paths whose record is not the very one in `previous` in
    `fresh`; problems collect in `skipped`.
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
        self.fresh: list[str] = []
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
                self._skip(path, error_reason(error))
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
            fd, entries = list_directory(full)
        except OSError as error:
            self._skip(path, error_reason(error))
            return None
        try:
            has_gitignore = any(entry.name == GITIGNORE for entry in entries)
            lines = read_gitignore(Path(full)) if has_gitignore else None
            matcher = parent_matcher.enter(path, lines)
            self._real_stack.add(real)
            try:
                children = self._children(entries, path, full, real, matcher)
            finally:
                self._real_stack.discard(real)
        finally:
            os.close(fd)
        children.sort(key=_path_of)
        record = self._directory_record(path, children, inode, symlink)
        self.records[path] = record
        self.counts.dir_count += 1
        self._count_node()
        return record

    def _children(
        self,
        entries: list[os.DirEntry[str]],
        parent: str,
        parent_full: str,
        parent_real: str,
        matcher: IgnoreMatcher,
    ) -> list[NodeRecord]:
        """The records of a directory's entries, in three steps per entry: leave out what is
        ignored, reuse the previous record of an unchanged file, build anything else.

        The common case, a regular file whose stat matches its previous record, runs inline
        (no call, no new object: this loop is what an unchanged rescan costs beyond its
        system calls) and is counted in `unchanged` until the totals are next needed.
        """
        prefix = "" if parent == ROOT else parent + "/"
        full_prefix = parent_full if parent_full.endswith(os.sep) else parent_full + os.sep
        previous_get = self.previous.get
        records = self.records
        children: list[NodeRecord] = []
        append = children.append
        check_rules = matcher.has_rules
        trust_stat = not self.force
        force_paths = self.force_paths
        unchanged = 0  # unchanged files not yet added to `counts`
        until_progress = self._next_progress - self.counts.node_count
        for entry in entries:
            name = entry.name
            if name in BUILTIN_IGNORED_NAMES:
                continue
            path = prefix + name
            info = None
            try:
                is_link = entry.is_symlink()
                if not is_link:
                    # step 1: leave out what the rules ignore or cannot be named
                    is_dir = entry.is_dir()  # not a link: no need to say not to follow
                    if check_rules and matcher.is_ignored(path, name, is_dir):
                        continue
                    if not (name.isascii() or valid_name(name)):
                        self._skip(path, "name is not valid UTF-8")
                        continue
                    # step 2: an unchanged file keeps its previous record
                    if not is_dir:
                        info = entry.stat()
                        record = previous_get(path)
                        if (
                            record is not None
                            and trust_stat
                            and _stat_unchanged(record, info)
                            and (not force_paths or path not in force_paths)
                        ):
                            records[path] = record
                            append(record)
                            unchanged += 1
                            if unchanged >= until_progress:
                                self._add_unchanged(unchanged)
                                unchanged = 0
                                until_progress = self._next_progress - self.counts.node_count
                            continue
                # step 3: anything else counts itself: bring the totals up to date first
                if unchanged:
                    self._add_unchanged(unchanged)
                    unchanged = 0
                built = self._build_entry(entry, path, full_prefix + name, parent_real, info,
                                          matcher)
                until_progress = self._next_progress - self.counts.node_count
            except OSError as error:
                self._skip(path, error_reason(error))
                continue
            if built is not None:
                append(built)
        if unchanged:
            self._add_unchanged(unchanged)
        return children

    def _build_entry(
        self,
        entry: os.DirEntry[str],
        path: str,
        full: str,
        parent_real: str,
        info: os.stat_result | None,
        matcher: IgnoreMatcher,
    ) -> NodeRecord | None:
        """The record of a new or changed entry: a symlink, a directory (walked), or a file
        (`info` is its stat, already taken)."""
        if info is not None:
            return self._file(path, full, info, None)
        if entry.is_symlink():
            return self._symlink(path, full, entry.name, matcher)
        real = join_path(parent_real, entry.name)
        return self._directory(path, full, matcher, entry.inode(), real, None)

    def _directory_record(
        self, path: str, children: list[NodeRecord], inode: int, symlink: str | None
    ) -> NodeRecord:
        """The previous record when nothing in the directory changed, else a new one.

        Everything is compared, even when every child is its previous record: a store
        written by two processes at once can hold a directory record that does not match
        its children, and this is where the next scan mends it.
        """
        previous = self.previous.get(path)
        if (
            previous is not None
            and previous.type == DIRECTORY
            and previous.inode == inode
            and previous.symlink == symlink
            and previous.children == tuple(map(_id_of, children))
            and previous.size == sum(map(_size_of, children))
            and previous.mtime_ns == max(map(_mtime_of, children), default=0)
        ):
            return previous
        self.fresh.append(path)
        return directory_record(path, children, inode=inode, symlink=symlink)

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
            self._skip(path, "broken symlink" if broken else error_reason(error))
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
            self._skip(path, not_regular_reason(info.st_mode))
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
            if record is not previous:
                self.fresh.append(path)
        self.records[path] = record
        self.counts.file_count += 1
        self._count_node()
        return record

    def _hashed_file(
        self, path: str, full: str, symlink: str | None, previous: NodeRecord | None
    ) -> NodeRecord | None:
        try:
            info, content_hash, size_read = hash_file(full, follow_symlink=symlink is not None)
        except OSError as error:
            self._skip(path, error_reason(error))
            return None
        if content_hash is None:
            self._skip(path, not_regular_reason(info.st_mode))
            return None
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
        self.skipped.append(Skipped(printable(path), reason))

    def _add_unchanged(self, files: int) -> None:
        """Count `files` unchanged files at once, reporting progress when it falls due."""
        self.counts.file_count += files
        self.counts.node_count += files
        if self.counts.node_count >= self._next_progress:
            self._report_progress()

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


def _stat_unchanged(record: NodeRecord, info: os.stat_result) -> bool:
    """Whether a regular file's stat matches its previous record, so it need not be read."""
    return (
        record.mtime_ns == info.st_mtime_ns
        and record.size == info.st_size
        and record.inode == info.st_ino
        and not record.racy
        and record.type == FILE
        and record.symlink is None
        and stat.S_ISREG(info.st_mode)
    )
