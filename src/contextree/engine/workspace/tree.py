"""The workspace's Merkle tree: node ids, node records, an in-memory index and its LMDB home.

A node id is BLAKE3 over a type tag, the node's workspace-relative POSIX path and its content
hash (a file) or its sorted `(name, child id)` list (a directory). Ids therefore survive moving
the workspace, and any change anywhere changes every id up to the root.

The store holds the current tree only, in three sub-databases: `nodes` (node id → record
JSON), `paths` (path → node id) and `meta` (`tree.*` keys: schema version, summary, last scan).
The tree is derived data: a store with an older schema is emptied and rebuilt by the next scan.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

import lmdb
import msgspec
from blake3 import blake3

from contextree.engine.store import DatabaseHandle, EngineStore, Transaction, as_engine_store
from contextree.errors import StoreError
from contextree.progress.schema import (
    META,
    NODES,
    PATHS,
    TREE_LAST_SCAN,
    TREE_SCHEMA_VERSION,
    TREE_SUMMARY,
)

SCHEMA_VERSION = 1
FILE = "file"
DIRECTORY = "directory"
ROOT = "."


log = logging.getLogger(__name__)


class NodeRecord(msgspec.Struct, frozen=True, gc=False):
    """One node of the tree as stored.

    A directory's `size` is the sum of its children's, its `mtime_ns` their newest; `children`
    lists child ids in name order. `symlink` is the workspace-relative real path when the node
    was reached through a symbolic link. `racy` marks a file modified so recently that its
    stat may not show a further change, so the next scan re-reads it. Records hold only
    strings and numbers, never a cycle, so the garbage collector need not track them
    (`gc=False`: a whole tree loads and is walked without collector passes over it).
    """

    id: str
    path: str
    type: str
    size: int
    mtime_ns: int
    inode: int
    content_hash: str | None = None
    children: tuple[str, ...] = ()
    symlink: str | None = None
    racy: bool = False

    @property
    def name(self) -> str:
        return self.path.rpartition("/")[2]


class TreeSummary(msgspec.Struct, frozen=True):
    """The `tree.summary` meta value: root id and counts of the stored tree."""

    node_count: int = 0
    file_count: int = 0
    dir_count: int = 0
    total_bytes: int = 0
    root_id: str | None = None
    updated_at: str | None = None
    updated_by: str | None = None


_encode = msgspec.json.Encoder().encode
_decode_summary = msgspec.json.Decoder(TreeSummary).decode
_decode_record = msgspec.json.Decoder(NodeRecord).decode
_decode_any = msgspec.json.Decoder().decode


def _record_or_none(raw: bytes) -> NodeRecord | None:
    """Decode a stored record; a damaged one is skipped with a warning (the next scan
    rebuilds it), never a crash."""
    try:
        return _decode_record(raw)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        log.warning("skipping a damaged tree record (run `ctree scan --force`): %s", exc)
        return None


def file_node_id(path: str, content_hash: str) -> str:
    """The id of the file at `path` whose content hashes to `content_hash`."""
    return blake3(b"contextree:file\0%s\0%s" % (path.encode(), content_hash.encode())).hexdigest()


def directory_node_id(path: str, children: Iterable[tuple[str, str]]) -> str:
    """The id of the directory at `path` from its `(name, child id)` pairs, sorted by name."""
    listing = b"".join(b"%s\0%s\n" % (name.encode(), child.encode()) for name, child in children)
    return blake3(b"contextree:directory\0%s\0%s" % (path.encode(), listing)).hexdigest()


def parent_path(path: str) -> str:
    """The workspace-relative parent of `path` (`.` for top-level entries)."""
    return path.rpartition("/")[0] or ROOT


def join_path(directory: str, name: str) -> str:
    return name if directory == ROOT else f"{directory}/{name}"


def is_within(path: str, ancestor: str) -> bool:
    """Whether `path` is `ancestor` or lies beneath it."""
    return ancestor == ROOT or path == ancestor or path.startswith(ancestor + "/")


# --- the in-memory index ------------------------------------------------------------------


class TreeIndex:
    """The whole tree in memory, keyed by path, able to swap subtrees and rehash ancestors.

    Every change remembers the record it replaced, so `take_changes` yields exactly what a
    store needs to write.
    """

    def __init__(self, records: dict[str, NodeRecord]) -> None:
        self.records = records
        self.children: dict[str, set[str]] = {}
        for path in records:
            if path != ROOT:
                self.children.setdefault(parent_path(path), set()).add(path)
        self._replaced: dict[str, NodeRecord | None] = {}

    @property
    def root_id(self) -> str | None:
        root = self.records.get(ROOT)
        return root.id if root else None

    def descendants(self, path: str) -> Iterator[str]:
        """`path`'s descendants in the index (not `path` itself)."""
        stack = list(self.children.get(path, ()))
        while stack:
            current = stack.pop()
            yield current
            stack.extend(self.children.get(current, ()))

    def replace_subtree(self, path: str, subtree: Mapping[str, NodeRecord]) -> None:
        """Put `subtree` (records at and under `path`; empty to delete) in place of `path`'s."""
        for old in [path, *self.descendants(path)]:
            self._set(old, None)
        for new_path, record in subtree.items():
            self._set(new_path, record)

    def rebuild(
        self, paths: Iterable[str], build: Callable[[str], Mapping[str, NodeRecord]]
    ) -> list[str]:
        """Replace each of `paths` by what `build(path)` returns for it (its records at and
        under it; empty when it is gone), then recompute ancestors. A path whose parent is
        not yet a directory here is widened to its highest missing ancestor. Returns the
        subtree roots rebuilt."""
        roots: set[str] = set()
        for path in paths:
            while path != ROOT and self._parent_type(path) != DIRECTORY:
                path = parent_path(path)
            roots.add(path)
        kept = sorted(
            (p for p in roots if not any(is_within(p, o) for o in roots if o != p)),
            key=lambda p: (p.count("/"), p),
        )
        for path in kept:
            self.replace_subtree(path, build(path))
        self.refresh_ancestors(kept)
        return kept

    def _parent_type(self, path: str) -> str | None:
        parent = self.records.get(parent_path(path))
        return parent.type if parent is not None else None

    def refresh_ancestors(self, paths: Iterable[str]) -> None:
        """Recompute every directory above `paths`, deepest first, up to the root."""
        pending: set[str] = set()
        for path in paths:
            while path != ROOT:
                path = parent_path(path)
                if path in pending:
                    break
                pending.add(path)
        for directory in sorted(pending, key=lambda p: (-p.count("/"), p == ROOT)):
            record = self.records.get(directory)
            if record is not None and record.type == DIRECTORY:
                self._set(directory, self.rebuilt_directory(record))

    def rebuilt_directory(self, record: NodeRecord) -> NodeRecord:
        """`record` with id, children, size and mtime recomputed from the indexed children."""
        kids = sorted((self.records[p] for p in self.children.get(record.path, ())), key=_name)
        return directory_record(record.path, kids, inode=record.inode, symlink=record.symlink)

    def take_changes(self) -> TreeChanges:
        """What changed since the last call, as puts and deletes for the store."""
        changes = TreeChanges()
        for path, old in self._replaced.items():
            new = self.records.get(path)
            if old == new:
                continue
            if new is not None:
                changes.put.append(new)
            if old is not None and (new is None or new.id != old.id):
                changes.delete_ids.append(old.id)
            if new is None:
                changes.delete_paths.append(path)
        self._replaced.clear()
        return changes

    def _set(self, path: str, record: NodeRecord | None) -> None:
        if path not in self._replaced:
            self._replaced[path] = self.records.get(path)
        if record is None:
            if self.records.pop(path, None) is not None and path != ROOT:
                siblings = self.children.get(parent_path(path))
                if siblings is not None:
                    siblings.discard(path)
            self.children.pop(path, None)
            return
        if path not in self.records and path != ROOT:
            self.children.setdefault(parent_path(path), set()).add(path)
        self.records[path] = record


def _name(record: NodeRecord) -> str:
    return record.name


_type_of = attrgetter("type")


def directory_record(
    path: str, children: list[NodeRecord], *, inode: int, symlink: str | None
) -> NodeRecord:
    """A directory's record from its children, already sorted by name."""
    return NodeRecord(
        id=directory_node_id(path, [(child.name, child.id) for child in children]),
        path=path,
        type=DIRECTORY,
        size=sum(child.size for child in children),
        mtime_ns=max((child.mtime_ns for child in children), default=0),
        inode=inode,
        children=tuple(child.id for child in children),
        symlink=symlink,
    )


@dataclass
class TreeChanges:
    """Records to write and ids and paths to delete, in one transaction."""

    put: list[NodeRecord] = field(default_factory=list)
    delete_ids: list[str] = field(default_factory=list)
    delete_paths: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.put) + len(self.delete_paths)


def diff_records(
    old: Mapping[str, NodeRecord],
    new: Mapping[str, NodeRecord],
    candidates: Iterable[str] | None = None,
) -> TreeChanges:
    """The changes that turn the stored tree `old` into `new`.

    `candidates`, when given, lists every path of `new` whose record may not be the very
    object `old` holds (a builder's `fresh`): only those are compared, and `old` is searched
    for deleted paths only when some of its paths can be missing from `new`.
    """
    changes = TreeChanges()
    added = 0
    for path in new if candidates is None else candidates:
        record = new[path]
        previous = old.get(path)
        if previous is None:
            added += 1
        elif previous is record or previous == record:
            continue
        changes.put.append(record)
        if previous is not None and previous.id != record.id:
            changes.delete_ids.append(previous.id)
    if candidates is None or len(new) - added != len(old):
        for path, previous in old.items():
            if path not in new:
                changes.delete_ids.append(previous.id)
                changes.delete_paths.append(path)
    return changes


# --- persistence --------------------------------------------------------------------------


class TreeStore:
    """The tree's sub-databases in a store.

    The constructor creates them and resets a tree of an older schema (a writer's open);
    `open_existing` is the reader's open: it never writes.
    """

    store: EngineStore
    nodes_db: DatabaseHandle
    paths_db: DatabaseHandle
    meta_db: DatabaseHandle

    def __init__(self, store: EngineStore | lmdb.Environment) -> None:
        self.store = as_engine_store(store)
        self.nodes_db = self.store.open_db(NODES)
        self.paths_db = self.store.open_db(PATHS)
        self.meta_db = self.store.open_db(META)
        self._check_schema()

    @classmethod
    def open_existing(cls, store: EngineStore | lmdb.Environment) -> TreeStore | None:
        """The stored tree for reading, or None when there is none yet (never scanned, or
        written by an older schema that the next scan rebuilds). Creates and migrates nothing;
        a tree of a newer schema raises `StoreError`."""
        store = as_engine_store(store)
        handles = [store.find_db(name) for name in (NODES, PATHS, META)]
        nodes_db, paths_db, meta_db = handles
        if nodes_db is None or paths_db is None or meta_db is None:
            return None
        tree = cls.__new__(cls)
        tree.store, tree.nodes_db, tree.paths_db, tree.meta_db = store, nodes_db, paths_db, meta_db
        version = tree.get_meta(TREE_SCHEMA_VERSION)
        tree._refuse_newer(version)
        return tree if version == SCHEMA_VERSION else None

    @staticmethod
    def _refuse_newer(version: object) -> None:
        if isinstance(version, int) and version > SCHEMA_VERSION:
            raise StoreError(
                f"the tree in this store has schema {version}, newer than this contextree "
                f"understands ({SCHEMA_VERSION}) — upgrade contextree"
            )

    def _check_schema(self) -> None:
        version = self.get_meta(TREE_SCHEMA_VERSION)
        if version == SCHEMA_VERSION:
            return
        self._refuse_newer(version)

        def reset(txn: Transaction) -> None:
            txn.drop(self.nodes_db, delete=False)
            txn.drop(self.paths_db, delete=False)
            for key in (TREE_SUMMARY, TREE_LAST_SCAN):
                txn.delete(key, db=self.meta_db)
            txn.put(TREE_SCHEMA_VERSION, _encode(SCHEMA_VERSION), db=self.meta_db)

        self.store.write(reset)

    def load_records(self) -> dict[str, NodeRecord]:
        """The whole stored tree, path → record."""
        with self.store.read() as txn:
            cursor = txn.cursor(db=self.nodes_db)
            loaded = list(map(_record_or_none, cursor.iternext(keys=False, values=True)))
        return {record.path: record for record in loaded if record is not None}

    def get_node(self, node_id: str) -> NodeRecord | None:
        with self.store.read() as txn:
            raw = txn.get(node_id.encode(), db=self.nodes_db) if node_id else None
        return _record_or_none(raw) if raw is not None else None

    def node_at(self, path: str) -> NodeRecord | None:
        """The record at the workspace-relative `path`, or None."""
        with self.store.read() as txn:
            node_id = txn.get(path.encode(), db=self.paths_db)
            raw = txn.get(node_id, db=self.nodes_db) if node_id else None
        return _record_or_none(raw) if raw is not None else None

    def children_of(self, record: NodeRecord) -> list[NodeRecord]:
        """A directory's child records, in name order."""
        with self.store.read() as txn:
            raws = [txn.get(child.encode(), db=self.nodes_db)
                    for child in record.children if child]
        children = (_record_or_none(raw) for raw in raws if raw is not None)
        return [child for child in children if child is not None]

    def get_meta(self, key: bytes) -> Any:
        with self.store.read() as txn:
            raw = txn.get(key, db=self.meta_db)
        if raw is None:
            return None
        try:
            return _decode_any(raw)
        except msgspec.DecodeError:
            log.warning("ignoring a damaged tree meta value %r", key)
            return None

    def summary(self) -> dict[str, Any] | None:
        """Root id and counts of the stored tree, as of its last update."""
        value = self.get_meta(TREE_SUMMARY)
        return value if isinstance(value, dict) else None

    def read_summary(self) -> TreeSummary | None:
        """The typed `tree.summary`; None before the first scan or when it is damaged."""
        with self.store.read() as txn:
            raw = txn.get(TREE_SUMMARY, db=self.meta_db)
        if raw is None:
            return None
        try:
            return _decode_summary(raw)
        except (msgspec.DecodeError, msgspec.ValidationError):
            log.warning("ignoring a damaged tree summary (run `ctree scan`)")
            return None

    def last_scan(self) -> dict[str, Any] | None:
        value = self.get_meta(TREE_LAST_SCAN)
        return value if isinstance(value, dict) else None

    def apply(self, changes: TreeChanges, meta: Mapping[bytes, Any]) -> None:
        """Write `changes` and the `meta` entries in one transaction."""

        def write(txn: Transaction) -> None:
            for node_id in changes.delete_ids:
                txn.delete(node_id.encode(), db=self.nodes_db)
            for path in changes.delete_paths:
                txn.delete(path.encode(), db=self.paths_db)
            for record in changes.put:
                txn.put(record.id.encode(), _encode(record), db=self.nodes_db)
                txn.put(record.path.encode(), record.id.encode(), db=self.paths_db)
            for key, value in meta.items():
                txn.put(key, _encode(value), db=self.meta_db)

        self.store.write(write)


def tree_summary(records: Mapping[str, NodeRecord], *, updated_at: str, by: str) -> dict[str, Any]:
    """The `tree.summary` meta value for a whole tree."""
    files = list(map(_type_of, records.values())).count(FILE)
    root = records.get(ROOT)
    return {
        "root_id": root.id if root else None,
        "node_count": len(records),
        "file_count": files,
        "dir_count": len(records) - files,
        "total_bytes": root.size if root else 0,
        "updated_at": updated_at,
        "updated_by": by,
    }
