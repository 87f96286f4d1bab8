"""Giving a store's free pages back to the filesystem, and telling how much is free.

LMDB never shrinks `data.mdb`: pages freed by a prune are reused, not returned.
`compact_store` writes a compacting copy into a sibling directory and renames it over
`data.mdb`, which is safe only while no other process has the store open: every open store
holds a shared advisory lock on `presence.lock` beside the data (see `store_lock.py`), and
compaction takes it exclusively (and also checks LMDB's reader table for processes of older
versions).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

import lmdb

from contextree.errors import StoreError, StoreNotFoundError
from contextree.progress.schema import MAX_DBS
from contextree.progress.store_lock import PRESENCE_FILE

if TYPE_CHECKING:
    from contextree.progress.store import EventStore

DATA_FILE: Final = "data.mdb"
COMPACT_SUGGESTED_SHARE: Final = 0.5
"""`status` suggests compacting when more than this share of the file is free…"""
COMPACT_SUGGESTED_MIN_BYTES: Final = 1 << 20
"""…and at least this much: a new store is mostly free pages, and tiny."""


@dataclass(frozen=True)
class StoreUsage:
    """How big a store's data file is, and how much of it holds no live data."""

    size_bytes: int
    free_bytes: int

    @property
    def free_share(self) -> float:
        return self.free_bytes / self.size_bytes if self.size_bytes else 0.0

    @property
    def worth_compacting(self) -> bool:
        return (self.free_share > COMPACT_SUGGESTED_SHARE
                and self.free_bytes >= COMPACT_SUGGESTED_MIN_BYTES)


@dataclass(frozen=True)
class CompactResult:
    before_bytes: int
    after_bytes: int

    @property
    def freed_bytes(self) -> int:
        return self.before_bytes - self.after_bytes


def store_usage(store: EventStore) -> StoreUsage:
    """The data file's size and the bytes in it that no sub-database uses."""
    page_size = int(store.env.stat()["psize"])
    used_pages = 2 + _tree_pages(store.env.stat())  # two meta pages and the main tree
    with store.read() as txn:
        names = _database_names(txn)
    handles = [h for h in map(store.find_db, names) if h is not None]  # outside a transaction
    with store.read() as txn:
        for handle in handles:
            used_pages += _tree_pages(txn.stat(handle))
    size = (store.path / DATA_FILE).stat().st_size
    return StoreUsage(size_bytes=size, free_bytes=max(0, size - used_pages * page_size))


def compact_store(path: Path) -> CompactResult:
    """Replace the store's data file by a compacting copy; refuses (`StoreError`) while any
    other process has the store open."""
    if not (path / DATA_FILE).is_file():
        raise StoreNotFoundError(f"no store at {path}")
    fd = os.open(path / PRESENCE_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreError(f"the store at {path} is open in another process — "
                             "close it there first") from None
        return _compact_unshared(path)
    finally:
        os.close(fd)


def _compact_unshared(path: Path) -> CompactResult:
    import shutil  # only compaction needs it: every store open imports this module

    before = (path / DATA_FILE).stat().st_size
    scratch = path.with_name(f"{path.name}.compacting-{os.getpid()}")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(mode=0o700)
    try:
        env = lmdb.open(str(path), max_dbs=MAX_DBS, subdir=True, create=False)
        try:
            env.reader_check()
            others = _other_reader_pids(env)
            if others:
                raise StoreError(f"the store at {path} is open in process "
                                 f"{', '.join(map(str, sorted(others)))} — close it there first")
            env.copy(str(scratch), compact=True)
        finally:
            env.close()
        copy = scratch / DATA_FILE
        _fsync(copy)
        os.replace(copy, path / DATA_FILE)
        _fsync(path)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return CompactResult(before_bytes=before, after_bytes=(path / DATA_FILE).stat().st_size)


def _other_reader_pids(env: lmdb.Environment) -> set[int]:
    """Processes other than this one holding a slot in LMDB's reader table."""
    pids = set()
    for line in env.readers().splitlines()[1:]:
        fields = line.split()
        if fields and fields[0].isdigit() and int(fields[0]) != os.getpid():
            pids.add(int(fields[0]))
    return pids


def _fsync(path: Path) -> None:
    flags = os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() else 0)
    fd = os.open(path, flags)
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def _tree_pages(stat: lmdb._StatDict) -> int:
    return stat["branch_pages"] + stat["leaf_pages"] + stat["overflow_pages"]


def _database_names(txn: lmdb.Transaction[bytes]) -> list[str]:
    """The named sub-databases: the keys of the main tree."""
    names = []
    for key in txn.cursor().iternext(keys=True, values=False):
        with contextlib.suppress(UnicodeDecodeError):
            names.append(bytes(key).decode("ascii"))
    return names
