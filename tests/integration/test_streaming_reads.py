"""Streaming reads: events and sessions come from the store a chunk at a time, each chunk in
its own short read transaction, and a listing stops at its limit."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from tests.support.synthetic_sessions import write_ended_sessions

from contextree.cli.app import run
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


def test_a_first_chunk_starts_small_and_doubles_up_to_the_chunk(
    store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (session_id,) = write_ended_sessions(store_path, 1, events_each=40)
    sizes: list[int] = []
    read_chunk = EventStore._read_event_chunk

    def recording(self: EventStore, session: str, after_seq: int, chunk: int) -> (
            tuple[list[tuple[bytes, bytes]], int, bool]):
        sizes.append(chunk)
        return read_chunk(self, session, after_seq, chunk)

    monkeypatch.setattr(EventStore, "_read_event_chunk", recording)
    store = EventStore.open_readonly(store_path)
    try:
        whole = store.read_raw_events(session_id)
        sizes.clear()
        assert list(store.iter_raw_events(session_id, chunk=8, first_chunk=1)) == whole
        assert sizes == [1, 2, 4, 8, 8, 8, 8, 8]  # 1+2+4+8×4 = 39, then the end
    finally:
        store.close()


class RecordingSink(io.RawIOBase):
    """The bytes that left the process's stdout buffer, as a pipe would receive them."""

    def __init__(self) -> None:
        self.received = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.received += data
        return len(data)


def test_sessions_events_flushes_its_first_line_before_reading_further(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first event line reaches a pipe before the second read of the store: stdout is
    buffered a megabyte deep here, so only a flush can put it there that early."""
    monkeypatch.delenv("CTREE_STORE", raising=False)
    workspace = tmp_path / "ws"
    (session_id,) = write_ended_sessions(workspace / ".ctree" / "store", 1, events_each=300)
    sink = RecordingSink()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(io.BufferedWriter(sink, 1 << 20)))
    received_at_each_read: list[bytes] = []
    read_chunk = EventStore._read_event_chunk

    def recording(self: EventStore, session: str, after_seq: int, chunk: int) -> (
            tuple[list[tuple[bytes, bytes]], int, bool]):
        received_at_each_read.append(bytes(sink.received))
        return read_chunk(self, session, after_seq, chunk)

    monkeypatch.setattr(EventStore, "_read_event_chunk", recording)
    assert run(["-C", str(workspace), "sessions", "events", "last"]) == 0
    sys.stdout.flush()
    lines = bytes(sink.received).splitlines()
    assert len(lines) == 300 and lines[0].startswith(b"{") and session_id.encode() in lines[0]
    assert received_at_each_read[0] == b""
    assert received_at_each_read[1] == lines[0] + b"\n"
