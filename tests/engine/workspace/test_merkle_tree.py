"""Node ids, the in-memory index and the stored tree."""

from __future__ import annotations

from pathlib import Path

import lmdb
import msgspec
import pytest
from blake3 import blake3

from contextree.engine.store import LmdbEnvStore
from contextree.engine.workspace.config import Config
from contextree.engine.workspace.ignore import IgnoreRules
from contextree.engine.workspace.layout import Workspace
from contextree.engine.workspace.scan import TreeBuilder
from contextree.engine.workspace.tree import (
    ROOT,
    SCHEMA_VERSION,
    TreeIndex,
    TreeStore,
    diff_records,
    directory_node_id,
    file_node_id,
)
from contextree.errors import StoreError
from contextree.progress import EventStore
from contextree.progress.schema import TREE_SCHEMA_VERSION

from .helpers import scan, write


def build(root: Path) -> dict[str, str]:
    builder = TreeBuilder(root, IgnoreRules(root), {})
    builder.build_root()
    return {path: record.id for path, record in builder.records.items()}


def test_ids_are_typed_and_path_bound() -> None:
    content = blake3(b"x").hexdigest()
    assert file_node_id("a.py", content) != file_node_id("b.py", content)
    assert file_node_id("a", content) != directory_node_id("a", [("x", content)])
    assert directory_node_id("d", [("a", "1"), ("b", "2")]) != directory_node_id(
        "d", [("a", "2"), ("b", "1")]
    )
    assert len(file_node_id("a", content)) == 64


def test_identical_trees_at_different_places_have_identical_ids(tmp_path: Path) -> None:
    for name in ("one", "two/nested"):
        write(tmp_path / name, "src/a.py", "print(1)\n")
        write(tmp_path / name, "README.md", "# hi\n")
        (tmp_path / name / "empty").mkdir()
    assert build(tmp_path / "one") == build(tmp_path / "two" / "nested")


def test_a_change_propagates_to_every_ancestor_and_nothing_else(tmp_path: Path) -> None:
    write(tmp_path, "a/b/c.txt", "1")
    write(tmp_path, "a/other.txt", "same")
    write(tmp_path, "z/keep.txt", "same")
    before = build(tmp_path)
    write(tmp_path, "a/b/c.txt", "2")
    after = build(tmp_path)
    changed = {path for path in before if before[path] != after[path]}
    assert changed == {"a/b/c.txt", "a/b", "a", ROOT}


def test_index_subtree_swap_matches_a_fresh_build(tmp_path: Path) -> None:
    write(tmp_path, "a/b/c.txt", "1")
    write(tmp_path, "a/d.txt", "2")
    write(tmp_path, "e.txt", "3")
    builder = TreeBuilder(tmp_path, IgnoreRules(tmp_path), {})
    builder.build_root()
    index = TreeIndex(dict(builder.records))
    write(tmp_path, "a/b/new.txt", "4")
    (tmp_path / "a" / "d.txt").unlink()
    for path in ("a/b", "a/d.txt"):
        sub = TreeBuilder(tmp_path, IgnoreRules(tmp_path), index.records)
        sub.build_path(path)
        index.replace_subtree(path, sub.records)
    index.refresh_ancestors(["a/b", "a/d.txt"])
    expected = build(tmp_path)
    assert {path: record.id for path, record in index.records.items()} == expected
    changes = index.take_changes()
    assert sorted(changes.delete_paths) == ["a/d.txt"]
    assert {record.path for record in changes.put} == {"a/b/new.txt", "a/b", "a", ROOT}
    assert index.take_changes().put == []


def test_diff_records_deletes_replaced_ids(tmp_path: Path) -> None:
    write(tmp_path, "x.txt", "1")
    first = TreeBuilder(tmp_path, IgnoreRules(tmp_path), {})
    first.build_root()
    write(tmp_path, "x.txt", "22")
    write(tmp_path, "y.txt", "3")
    second = TreeBuilder(tmp_path, IgnoreRules(tmp_path), first.records)
    second.build_root()
    changes = diff_records(first.records, second.records)
    assert set(changes.delete_ids) == {first.records["x.txt"].id, first.records[ROOT].id}
    assert changes.delete_paths == []
    assert diff_records(second.records, second.records).put == []


def test_store_round_trip_and_lookups(
    workspace: Workspace, store: EventStore, config: Config
) -> None:
    write(workspace.root, "pkg/mod.py", "x = 1\n")
    result, _ = scan(workspace, store, config)
    tree = TreeStore(store)
    root = tree.node_at(ROOT)
    assert root is not None and root.id == result.root_id
    assert [child.path for child in tree.children_of(root)] == ["pkg"]
    module = tree.node_at("pkg/mod.py")
    assert module is not None and module.content_hash == blake3(b"x = 1\n").hexdigest()
    assert tree.get_node(module.id) == module
    assert tree.summary() is not None and tree.summary()["file_count"] == 1  # type: ignore[index]
    with store.read() as txn:
        raw = txn.get(module.id.encode(), db=store.open_db("nodes"))
    stored = msgspec.json.decode(raw)
    assert {"id", "path", "type", "size", "mtime_ns", "inode", "content_hash", "children"} <= set(
        stored
    )


def test_scan_works_on_a_bare_lmdb_environment(
    workspace: Workspace, config: Config, tmp_path: Path
) -> None:
    write(workspace.root, "a.txt", "a")
    env = lmdb.open(str(tmp_path / "bare"), max_dbs=8, map_size=1 << 16)
    try:
        for index in range(200):  # outgrow the tiny map
            write(workspace.root, f"many/{index}.txt", "x" * 100)
        result, _ = scan(workspace, env, config)
        assert TreeStore(LmdbEnvStore(env)).node_at(ROOT).id == result.root_id  # type: ignore[union-attr]
    finally:
        env.close()


def test_an_older_schema_is_dropped_and_a_newer_one_refused(
    workspace: Workspace, store: EventStore, config: Config
) -> None:
    write(workspace.root, "a.txt", "a")
    scan(workspace, store, config)
    meta = store.open_db("meta")
    store.write(lambda txn: txn.put(TREE_SCHEMA_VERSION, b"0", db=meta))
    tree = TreeStore(store)
    assert tree.load_records() == {} and tree.get_meta(TREE_SCHEMA_VERSION) == SCHEMA_VERSION
    store.write(lambda txn: txn.put(TREE_SCHEMA_VERSION, str(SCHEMA_VERSION + 1).encode(), db=meta))
    with pytest.raises(StoreError, match="upgrade contextree"):
        TreeStore(store)
