"""Ended sessions written straight through `EventStore.commit_batch`: thousands in a moment,
for tests of listing and streaming that need many sessions or many events."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from ulid import ULID

from contextree.progress import EventStore
from contextree.progress.event import assemble_event, encode_payload, event_key, format_ts
from contextree.progress.session import SessionMeta, SessionRecord


def write_ended_sessions(store_path: Path, count: int, *, events_each: int = 2) -> list[str]:
    """`count` completed sessions (`scan`, one millisecond apart), each with `events_each`
    events; returns their ids, oldest first."""
    store = EventStore.open(store_path)
    started = time.time() - 3600
    ids = []
    try:
        for index in range(count):
            at = started + index / 1000
            session_id = str(ULID.from_timestamp(at))
            ts = format_ts(at)
            record = SessionRecord(
                session_id=session_id, command="scan", args={}, workspace=None, pid=1,
                host=socket.gethostname(), proc_start=0.0, started_at=ts, ended_at=ts,
                status="completed")
            events = [
                (event_key(session_id, seq),
                 assemble_event(ts, session_id, seq, "queue_stats", encode_payload({"n": seq})))
                for seq in range(1, events_each + 1)
            ]
            meta = SessionMeta(next_seq=events_each + 1, status="completed", last_ts=ts,
                               event_count=events_each)
            store.commit_batch(records={session_id: record}, events=events,
                               metas={session_id: meta})
            ids.append(session_id)
    finally:
        store.close()
    return ids
