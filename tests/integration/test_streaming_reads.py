"""Streaming reads: events and sessions come from the store a chunk at a time, each chunk in
its own short read transaction, and a listing stops at its limit."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.synthetic_sessions import write_ended_sessions

from contextree.progress import EventStore
from contextree.progress import store as store_module
from contextree.progress.event import event_key


def test_events_stream_in_chunks_in_order_skipping_malformed_keys(store_path: Path) -> None:
    (session_id,) = write_ended_sessions(store_path, 1, events_each=10)
    store = EventStore.open(store_path)
    try:
        store.write(lambda txn: txn.put(event_key(session_id, 4)[:-1] + b"x", b"{}",
                                        db=store.events_db))
        whole = store.read_raw_events(session_id)
        for chunk in (1, 2, 3, 4096):
            assert list(store.iter_raw_events(session_id, chunk=chunk)) == whole
        assert [event.seq for event in store.iter_events(session_id, after_seq=7)] == [8, 9, 10]
        assert [event.seq for event in store.read_events(session_id, limit=2)] == [1, 2]
    finally:
        store.close()


def test_a_stream_sees_events_committed_between_its_chunks(store_path: Path) -> None:
    (session_id,) = write_ended_sessions(store_path, 1, events_each=4)
    store = EventStore.open(store_path)
    try:
        stream = store.iter_raw_events(session_id, chunk=2)
        first = [next(stream), next(stream)]
        value = store.read_raw_events(session_id)[0][1]
        store.write(lambda txn: txn.put(event_key(session_id, 5), value, db=store.events_db))
        rest = list(stream)
        assert [key for key, _ in first + rest] == [event_key(session_id, seq)
                                                    for seq in range(1, 6)]
    finally:
        store.close()


def test_listing_walks_newest_first_across_chunks_and_stops_at_the_limit(
    store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = write_ended_sessions(store_path, 7)
    monkeypatch.setattr(store_module, "SESSION_CHUNK", 2)
    store = EventStore.open_readonly(store_path)
    try:
        assert [r.session_id for r in store.list_sessions()] == ids[::-1]
        assert [r.session_id for r in store.list_sessions(limit=3)] == ids[:-4:-1]
        assert store.count_sessions() == 7 and store.count_sessions(status="failed") == 0
        metas = store.get_metas([ids[0], "0" * 26, ids[6]])
        assert set(metas) == {ids[0], ids[6]} and metas[ids[6]].event_count == 2
    finally:
        store.close()
