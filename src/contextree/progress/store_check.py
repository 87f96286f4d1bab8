"""Checks of a store's files before LMDB maps them, and what an open failure really means.

LMDB maps `data.mdb` into memory and trusts it: a file shorter than the pages its newest meta
page names kills the process with SIGBUS on the first read past the end. `check_store_files`
reads the two meta pages with plain file reads and compares the file's size with the last
committed page, so a truncated or foreign file is one `StoreError` naming the store instead.
It also reads the root page of the main and free-page trees the newest meta page names, and
checks that each lies inside the file and is the page it claims to be (its own page number, a
branch or leaf flag): LMDB trusts those pages, so a store overwritten there would otherwise be
read as empty or as garbage, or fail one of LMDB's assertions, which abort the process (there
is no way to survive one: py-lmdb installs no assertion callback). Damage deeper in a tree
cannot be found without reading every page; LMDB reports most of it as an error
(`MDB_CORRUPTED`, `MDB_PAGE_NOTFOUND`: the CLI names the store as damaged in one line), the
rest still aborts. Two environments over one data file, the usual cause, are refused by
`store_lock.py`. `describe_open_failure` turns an LMDB open error into a line naming the
cause (a read-only filesystem, permissions, a damaged file) without ever suggesting to delete
a store.
"""

from __future__ import annotations

import errno
import os
import struct
from pathlib import Path

import lmdb

from contextree.errors import StoreError

DATA_FILE = "data.mdb"
META_MAGIC = 0xBEEFC0DE
"""The magic number that opens each of LMDB's two meta pages."""
PAGE_HEADER_SIZE = 16
_META = struct.Struct("<II")  # mm_magic, mm_version: right after the page header
_PAGE_SIZE_OFFSET = PAGE_HEADER_SIZE + 24  # md_pad of the free-pages db holds the page size
_LAST_PAGE_OFFSET = PAGE_HEADER_SIZE + 120  # mm_last_pg, then mm_txnid
_LAST_PAGE = struct.Struct("<QQ")
_ROOT_OFFSETS = (PAGE_HEADER_SIZE + 64, PAGE_HEADER_SIZE + 112)  # md_root of free db, main db
_NO_PAGE = (1 << 64) - 1
"""`P_INVALID`: the root of an empty tree."""
_PAGE_HEADER = struct.Struct("<QHH")  # mp_pgno, mp_pad, mp_flags
_BRANCH_OR_LEAF = 0x01 | 0x02
_MIN_PAGE_SIZE, _MAX_PAGE_SIZE = 512, 65536


def check_store_files(path: Path) -> None:
    """Raise `StoreError` if `path` is not a directory or its `data.mdb` is shorter than its
    newest meta page says (truncated) or has no valid meta page (damaged). No file: no check."""
    if os.path.lexists(path) and not path.is_dir():
        raise StoreError(f"store {path} is a file, not a store directory — pass --store with a "
                         "directory")
    data = path / DATA_FILE
    try:
        with open(data, "rb") as file:
            head = file.read(_MAX_PAGE_SIZE + PAGE_HEADER_SIZE + _LAST_PAGE_OFFSET + 16)
            size = os.fstat(file.fileno()).st_size  # after the metas: the file only grows
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StoreError(f"cannot read store {path}: {exc.strerror}") from exc
    if size == 0:  # LMDB would quietly start an empty store over it
        raise StoreError(f"store {path} is damaged: {DATA_FILE} is empty — restore it from a "
                         "copy, or pass --store")
    required = _required_size(head)
    if required is None:
        raise StoreError(f"store {path} is damaged: {DATA_FILE} has no valid meta page "
                         f"({size} bytes) — restore it from a copy, or pass --store")
    if size < required:
        raise StoreError(f"store {path} is damaged: {DATA_FILE} is truncated ({size} bytes, "
                         f"its last committed page ends at {required}) — restore it from a "
                         "copy, or pass --store")
    bad_root = _bad_root(data, head, required)
    if bad_root is not None:
        raise StoreError(f"store {path} is damaged: {DATA_FILE} {bad_root} — restore it from "
                         "a copy, or pass --store")


def _bad_root(data: Path, head: bytes, required: int) -> str | None:
    """What is wrong with the root pages the newest meta page names, or None."""
    page_size = _page_size(head)
    meta = _newest_meta(head)
    if page_size is None or meta is None:
        return None
    with open(data, "rb") as file:
        for offset in _ROOT_OFFSETS:
            (root,) = struct.unpack_from("<Q", meta, offset)
            if root == _NO_PAGE:
                continue
            if (root + 1) * page_size > required:
                return f"names root page {root} past its last committed page"
            file.seek(root * page_size)
            page = file.read(_PAGE_HEADER.size)
            number, _pad, flags = _PAGE_HEADER.unpack(page.ljust(_PAGE_HEADER.size, b"\0"))
            if number != root or not flags & _BRANCH_OR_LEAF:
                return f"has a damaged root page ({root})"
    return None


def _required_size(head: bytes) -> int | None:
    """The bytes the newest valid meta page needs, or None when neither meta page is valid."""
    page_size = _page_size(head)
    meta = _newest_meta(head)
    if page_size is None or meta is None:
        return None
    last_page, _txnid = _LAST_PAGE.unpack_from(meta, _LAST_PAGE_OFFSET)
    return int(max(last_page + 1, 2) * page_size)


def _newest_meta(head: bytes) -> bytes | None:
    """The valid meta page (its first bytes) with the highest transaction id, or None."""
    page_size = _page_size(head)
    if page_size is None:
        return None
    best: tuple[int, bytes] | None = None
    for offset in (0, page_size):
        meta = head[offset:offset + _LAST_PAGE_OFFSET + _LAST_PAGE.size]
        if len(meta) < _LAST_PAGE_OFFSET + _LAST_PAGE.size:
            continue
        magic, _version = _META.unpack_from(meta, PAGE_HEADER_SIZE)
        if magic != META_MAGIC:
            continue
        _last_page, txnid = _LAST_PAGE.unpack_from(meta, _LAST_PAGE_OFFSET)
        if best is None or txnid > best[0]:
            best = (txnid, meta)
    return None if best is None else best[1]


def _page_size(head: bytes) -> int | None:
    if len(head) < _PAGE_SIZE_OFFSET + 4:
        return None
    (magic, _version) = _META.unpack_from(head, PAGE_HEADER_SIZE)
    (page_size,) = struct.unpack_from("<I", head, _PAGE_SIZE_OFFSET)
    if magic != META_MAGIC or not _MIN_PAGE_SIZE <= page_size <= _MAX_PAGE_SIZE:
        return None
    return int(page_size)


def describe_open_failure(path: Path, error: Exception) -> str:
    """One line saying why the store at `path` did not open, with the fix for that cause."""
    code = getattr(error, "errno", None)
    reason = str(error).strip() or type(error).__name__
    if code == errno.EROFS or _read_only_filesystem(path):
        return (f"cannot open store at {path} for writing: the filesystem is read-only — "
                "pass --store with a writable directory")
    if code in (errno.EACCES, errno.EPERM) or isinstance(error, lmdb.ReadonlyError):
        return f"cannot open store at {path}: permission denied — check its owner and permissions"
    if code == errno.ENOSPC:
        return f"cannot open store at {path}: no space left on device — free disk space"
    return (f"cannot open store at {path}: {reason} — the store may be damaged: restore it "
            "from a copy, or pass --store")


def _read_only_filesystem(path: Path) -> bool:
    for candidate in (path, *path.parents):
        try:
            return bool(os.statvfs(candidate).f_flag & os.ST_RDONLY)
        except OSError:
            continue
    return False
