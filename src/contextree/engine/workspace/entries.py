"""Single file system entries as the walk meets them: listing a directory, hashing a file,
telling whether a name is UTF-8, and saying in a few words why an entry was left out.

Nothing here knows the tree: `builder` turns these facts into node records.
"""

from __future__ import annotations

import errno
import os
import stat

from blake3 import blake3

READ_CHUNK = 1 << 20
PARALLEL_HASH_BYTES = 16 << 20

_DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NONBLOCK | os.O_CLOEXEC


def list_directory(full: str) -> tuple[int, list[os.DirEntry[str]]]:
    """An open descriptor of the directory `full` and its entries.

    Listing through the descriptor makes each entry's `stat()` an `fstatat` relative to it,
    which spares the kernel a walk of the whole path per file; close the descriptor once
    done with the entries.
    """
    fd = os.open(full, _DIRECTORY_FLAGS)
    try:
        with os.scandir(fd) as listing:
            return fd, list(listing)
    except BaseException:
        os.close(fd)
        raise


def hash_file(full: str, *, follow_symlink: bool) -> tuple[os.stat_result, str | None, int]:
    """The stat of the file at `full` as opened, the BLAKE3 of its content and the bytes read.

    The hash is None, and nothing is read, when what opened is not a regular file. Opening
    does not wait on a FIFO, and does not follow a final symlink unless `follow_symlink`.
    Raises `OSError`.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | (0 if follow_symlink else os.O_NOFOLLOW)
    fd = os.open(full, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return info, None, 0
        content_hash, size_read = _hash_descriptor(fd, info.st_size)
    finally:
        os.close(fd)
    return info, content_hash, size_read


_pool_owner_pid: int | None = None


def _thread_pool_usable() -> bool:
    """Whether blake3's multithreaded hashing is safe in this process.

    blake3 hashes large inputs on a native thread pool that starts on first use. Threads do
    not survive `fork`: a child of a process that started the pool would wait forever for
    workers that do not exist. So only the process that first used the pool uses it.
    """
    global _pool_owner_pid
    pid = os.getpid()
    if _pool_owner_pid is None:
        _pool_owner_pid = pid
    return _pool_owner_pid == pid


def _hash_descriptor(fd: int, size_hint: int) -> tuple[str, int]:
    """BLAKE3 of everything readable from `fd`, streamed in chunks, and the bytes read.

    Reads ask for one byte more than the expected size (at most `READ_CHUNK`), so a file
    that has not grown is read with a single call: a short read means end of file.
    """
    parallel = size_hint >= PARALLEL_HASH_BYTES and _thread_pool_usable()
    hasher = blake3(max_threads=blake3.AUTO) if parallel else blake3()
    total = 0
    request = min(size_hint + 1, READ_CHUNK)
    while chunk := os.read(fd, request):
        hasher.update(chunk)
        total += len(chunk)
        if len(chunk) < request:
            break
        request = READ_CHUNK
    return hasher.hexdigest(), total


def valid_name(name: str) -> bool:
    """Whether `name` is real UTF-8 (undecodable bytes arrive as lone surrogates)."""
    if name.isascii():
        return True
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def printable(path: str) -> str:
    """`path` with undecodable bytes shown as U+FFFD, fit for a report."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def error_reason(error: OSError) -> str:
    """Why an entry could not be taken, in a few words."""
    if error.errno == errno.ENOENT:
        return "vanished during scan"
    if error.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if error.errno == errno.ELOOP:
        return "symlink loop"
    return f"cannot read: {error.strerror or error}"


def not_regular_reason(mode: int) -> str:
    """Why an entry with this `st_mode`, not a regular file, is left out."""
    for test, kind in ((stat.S_ISFIFO, "fifo"), (stat.S_ISSOCK, "socket")):
        if test(mode):
            return f"not a regular file ({kind})"
    kind = "device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "special file"
    return f"not a regular file ({kind})"
