"""Who has a store open, and the guard against a second LMDB environment over a new lock file.

LMDB coordinates processes through `lock.mdb`: if it is deleted while a writer runs, the next
opener creates a fresh one, believes it is alone, and two writers corrupt the store. So every
process holds an advisory lock (`flock`, shared) on `presence.lock`, a file of our own beside
the data, for as long as it has the store open. The first opener (the one that finds the lock
free) records the identity (device and inode) of `lock.mdb` in it; any later opener, finding
others present, refuses unless `lock.mdb` is still that very file. Compaction takes the same
lock exclusively (see `compact.py`).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable
from pathlib import Path
from typing import Final, TypeVar

from contextree.errors import StoreError

PRESENCE_FILE: Final = "presence.lock"
"""Held (shared) by every process with the store open; compaction needs it exclusively."""
LOCK_FILE: Final = "lock.mdb"
"""LMDB's own lock file (its reader table and writer mutex)."""
E = TypeVar("E")


def open_guarded(path: Path, open_environment: Callable[[], E]) -> tuple[E, int | None]:
    """Open the environment through `open_environment` while holding the store's presence
    lock, refusing (`StoreError`) when other processes have the store open but `lock.mdb` is
    not the file they share. Returns the environment and the descriptor that holds presence
    (None where no presence file can exist: a read-only filesystem without one)."""
    fd = _open_presence_file(path)
    if fd is None:
        return open_environment(), None
    try:
        alone = _lock_alone(fd)
        if not alone:
            _check_lock_file(path, fd)
        environment = open_environment()
        if alone:
            _record_lock_file(path, fd)
            fcntl.flock(fd, fcntl.LOCK_SH)
        else:
            _check_lock_file(path, fd)  # it was not replaced while we opened
    except BaseException:
        os.close(fd)
        raise
    return environment, fd


def withdraw_presence(fd: int | None) -> None:
    """Release the presence lock taken by `open_guarded` (after closing the environment)."""
    if fd is not None:
        os.close(fd)


def _open_presence_file(path: Path) -> int | None:
    try:
        return os.open(path / PRESENCE_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError:
        try:
            return os.open(path / PRESENCE_FILE, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return None


def _lock_alone(fd: int) -> bool:
    """Take the presence lock: exclusively when no other process holds it (True), else
    shared (False; waits while a compaction holds it exclusively)."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fcntl.flock(fd, fcntl.LOCK_SH)
        return False
    return True


def _identity(path: Path) -> str | None:
    try:
        stat = os.stat(path / LOCK_FILE)
    except FileNotFoundError:
        return None
    return f"{stat.st_dev}:{stat.st_ino}"


def _record_lock_file(path: Path, fd: int) -> None:
    identity = _identity(path)
    if identity is None:
        return  # no lock file: LMDB runs without one (a read-only filesystem)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, identity.encode("ascii"), 0)
    except OSError:
        pass  # a read-only presence file: nothing else can open this store for writing


def _check_lock_file(path: Path, fd: int) -> None:
    recorded = os.pread(fd, 64, 0).decode("ascii", "replace").strip()
    if not recorded:
        return  # the processes present never recorded one (read-only files)
    current = _identity(path)
    if current != recorded:
        state = "was deleted" if current is None else "was replaced"
        raise StoreError(
            f"store {path} is open in another process but its {LOCK_FILE} {state} under it: "
            "opening it now would let two writers corrupt it — stop the processes using the "
            "store, then open it again")
