"""The storage seam: every sub-database and meta key is named once, and readers create nothing."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from contextree.engine.generation.frames import Frame, FrameStore
from contextree.engine.workspace.tree import SCHEMA_VERSION, TreeChanges, TreeStore, TreeSummary
from contextree.errors import StoreError
from contextree.progress import EventStore
from contextree.progress.schema import (
    ALL_DATABASES,
    META,
    META_KEYS,
    NODES,
    TREE_SCHEMA_VERSION,
    TREE_SUMMARY,
)


def _database_names(store: EventStore) -> set[str]:
    with store.read() as txn:
        return {bytes(key).decode() for key in txn.cursor().iternext(keys=True, values=False)}


def _frame() -> Frame:
    return Frame(
        frame_id="f" * 64, node_id="n" * 64, path="a.py", node_type="file", agent_id="docs",
        frame_type="context-docs", provider_name="local", provider_type="local", model="m",
        input_tokens=None, output_tokens=None, created_at="2026-01-01T00:00:00.000000Z",
        content="# a",
    )


def test_every_database_and_meta_key_the_store_writes_is_named_in_the_schema(
    store_path: Path,
) -> None:
    store = EventStore.open(store_path)
    try:
        TreeStore(store).apply(_empty_changes(), {TREE_SUMMARY: {"node_count": 0}})
        FrameStore(store).put(_frame())
        assert _database_names(store) == set(ALL_DATABASES)
        meta = store.find_db(META)
        with store.read() as txn:
            keys = {bytes(key) for key in txn.cursor(db=meta).iternext(values=False)}
        assert keys <= set(META_KEYS) and TREE_SCHEMA_VERSION in keys
    finally:
        store.close()


def _empty_changes() -> TreeChanges:
    return TreeChanges()


def test_readers_open_nothing_before_the_first_scan_and_create_nothing(store_path: Path) -> None:
    store = EventStore.open(store_path)
    try:
        before = _database_names(store)
        assert TreeStore.open_existing(store) is None
        assert FrameStore.open_existing(store) is None
        assert _database_names(store) == before
    finally:
        store.close()


def test_open_existing_reads_what_a_writer_stored(store_path: Path) -> None:
    store = EventStore.open(store_path)
    try:
        summary = {"node_count": 3, "file_count": 2, "dir_count": 1, "total_bytes": 7,
                   "root_id": "r", "updated_at": "t", "updated_by": "scan"}
        TreeStore(store).apply(_empty_changes(), {TREE_SUMMARY: summary})
        FrameStore(store).put(_frame())
        tree = TreeStore.open_existing(store)
        frames = FrameStore.open_existing(store)
        assert tree is not None and frames is not None
        assert tree.read_summary() == msgspec.convert(summary, TreeSummary)
        assert frames.head("n" * 64, "context-docs") == _frame()
    finally:
        store.close()


def test_an_older_tree_reads_as_not_there_and_is_not_reset(store_path: Path) -> None:
    store = EventStore.open(store_path)
    try:
        tree = TreeStore(store)
        store.write(lambda txn: txn.put(TREE_SCHEMA_VERSION, b"0", db=tree.meta_db))
        assert TreeStore.open_existing(store) is None
        assert tree.get_meta(TREE_SCHEMA_VERSION) == 0
        newer = str(SCHEMA_VERSION + 1).encode()
        store.write(lambda txn: txn.put(TREE_SCHEMA_VERSION, newer, db=tree.meta_db))
        with pytest.raises(StoreError, match="upgrade contextree"):
            TreeStore.open_existing(store)
    finally:
        store.close()


def test_a_damaged_summary_reads_as_none(store_path: Path) -> None:
    store = EventStore.open(store_path)
    try:
        tree = TreeStore(store)
        store.write(lambda txn: txn.put(TREE_SUMMARY, b'{"node_count": "x"}', db=tree.meta_db))
        assert tree.read_summary() is None
        assert NODES in _database_names(store)
    finally:
        store.close()
