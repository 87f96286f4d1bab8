"""Frames, heads and history in a real store."""

from __future__ import annotations

from pathlib import Path

import lmdb
import msgspec
import pytest

from contextree.engine.generation.frames import (
    SCHEMA_VERSION,
    Frame,
    FrameStore,
    compute_frame_id,
    default_frame_type,
)
from contextree.errors import StoreError
from contextree.progress import EventStore
from contextree.progress.schema import FRAMES_SCHEMA_VERSION

NODE_V1 = "a1" * 32
NODE_V2 = "b2" * 32


def make_frame(node_id: str = NODE_V1, content: str = "# a.py\n", *, path: str = "a.py",
               frame_type: str = "context-docs", created_at: str = "2026-01-01T00:00:00.000Z"
               ) -> Frame:
    return Frame(
        frame_id=compute_frame_id(node_id, "docs", frame_type, content), node_id=node_id,
        path=path, node_type="file", agent_id="docs", frame_type=frame_type,
        provider_name="local", provider_type="local", model="m", input_tokens=3,
        output_tokens=2, created_at=created_at, content=content,
    )


def test_frame_id_covers_node_agent_type_and_content() -> None:
    base = compute_frame_id(NODE_V1, "docs", "context-docs", "text")
    assert len(base) == 64 and base == base.lower()
    assert base == compute_frame_id(NODE_V1, "docs", "context-docs", "text")
    variants = {
        compute_frame_id(NODE_V2, "docs", "context-docs", "text"),
        compute_frame_id(NODE_V1, "arch", "context-docs", "text"),
        compute_frame_id(NODE_V1, "docs", "context-arch", "text"),
        compute_frame_id(NODE_V1, "docs", "context-docs", "text!"),
        compute_frame_id(NODE_V1, "docsc", "ontext-docs", "text"),  # no ambiguous joins
    }
    assert base not in variants and len(variants) == 5
    assert default_frame_type("docs") == "context-docs"


def test_put_sets_the_head_and_appends_to_the_history(store: EventStore) -> None:
    frames = FrameStore(store)
    assert frames.head(NODE_V1, "context-docs") is None
    first = make_frame()
    frames.put(first)
    assert frames.head(NODE_V1, "context-docs") == first
    assert frames.get(first.frame_id) == first
    regenerated = make_frame(content="# a.py, better\n", created_at="2026-01-02T00:00:00.000Z")
    frames.put(regenerated)
    assert frames.head(NODE_V1, "context-docs") == regenerated
    assert frames.history("a.py", "context-docs") == [first, regenerated]
    assert frames.get(first.frame_id) == first, "older frames stay reachable"


def test_writing_the_same_frame_twice_changes_nothing(store: EventStore) -> None:
    frames = FrameStore(store)
    frame = make_frame()
    frames.put(frame)
    frames.put_many([frame, frame])
    assert frames.history("a.py", "context-docs") == [frame]


def test_a_regeneration_with_the_same_text_is_recorded_with_its_own_provenance(
    store: EventStore,
) -> None:
    """Another provider writing the very same text is a new generation: the head shows it,
    the history keeps both, each with its provider, model, tokens, time and session."""
    frames = FrameStore(store)
    first = make_frame()
    again = msgspec.structs.replace(
        first, provider_name="fake", provider_type="openai", model="gpt-x", input_tokens=40,
        output_tokens=9, created_at="2026-01-03T00:00:00.000Z", session_id="01SESSION")
    assert again.frame_id == first.frame_id
    frames.put(first)
    frames.put(again)
    assert frames.head(NODE_V1, "context-docs") == again
    assert frames.history("a.py", "context-docs") == [first, again]
    frames.put(again)
    assert frames.history("a.py", "context-docs") == [first, again], "idempotent"


def test_entries_logged_without_provenance_still_read(store: EventStore) -> None:
    """A history entry of an older store (frame id, node id, time only) reads as the frame
    with the entry's time."""
    frames = FrameStore(store)
    frame = make_frame()
    frames.put(frame)
    key = b"a.py\0context-docs\0" + b"%010d" % 1
    old_entry = msgspec.json.encode({"frame_id": frame.frame_id, "node_id": NODE_V1,
                                     "created_at": "2025-12-31T00:00:00.000Z"})
    frames.store.write(lambda txn: txn.put(key, old_entry, db=frames.log_db))
    (read,) = frames.history("a.py", "context-docs")
    assert read == msgspec.structs.replace(frame, created_at="2025-12-31T00:00:00.000Z")


def test_history_follows_the_path_across_versions_newest_last(store: EventStore) -> None:
    frames = FrameStore(store)
    old = make_frame(NODE_V1, "v1")
    new = make_frame(NODE_V2, "v2")
    other = make_frame("c3" * 32, "other", path="a.pyc")  # a path sharing a prefix
    frames.put_many([old, new, other])
    assert frames.history("a.py", "context-docs") == [old, new]
    assert frames.head(NODE_V1, "context-docs") == old, "each version keeps its head"
    assert frames.head(NODE_V2, "context-docs") == new
    assert frames.history("a.py", "context-arch") == []
    assert frames.history("a.p", "context-docs") == []


def test_heads_coverage_and_frame_types(store: EventStore) -> None:
    frames = FrameStore(store)
    frames.put_many([make_frame(NODE_V1), make_frame(NODE_V2, frame_type="context-arch")])
    assert set(frames.heads([NODE_V1, NODE_V2], "context-docs")) == {NODE_V1}
    assert frames.with_head([NODE_V1, NODE_V2, "dd" * 32], "context-arch") == {NODE_V2}
    assert frames.coverage([NODE_V1, NODE_V2], "context-docs") == (1, 2)
    assert frames.frame_types() == ["context-arch", "context-docs"]


def test_schema_version_is_recorded_and_a_newer_one_refused(store: EventStore) -> None:
    frames = FrameStore(store)
    with store.read() as txn:
        stored = txn.get(FRAMES_SCHEMA_VERSION, db=frames.meta_db)
        assert msgspec.json.decode(stored) == SCHEMA_VERSION
    store.write(lambda txn: txn.put(FRAMES_SCHEMA_VERSION, b"99", db=frames.meta_db))
    with pytest.raises(StoreError, match="upgrade contextree"):
        FrameStore(store)


def test_a_bare_lmdb_environment_works_too(tmp_path: Path) -> None:
    env = lmdb.open(str(tmp_path / "bare"), max_dbs=8)
    try:
        frames = FrameStore(env)
        frame = make_frame()
        frames.put(frame)
        assert FrameStore(env).head(NODE_V1, "context-docs") == frame
    finally:
        env.close()
