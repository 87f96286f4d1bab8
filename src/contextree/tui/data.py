"""What the dashboard and the history show, read from the store in one snapshot.

`SnapshotReader.read()` lists every session with its effective status, event count, duration
and node counts, plus the workspace tree summary if the engine has written one. Node counts
come from the tail of a session (`generation_completed`, `scan_completed`, …) — a cursor seek,
not a rescan — or, for a short session without such an event, from a replay; they are cached,
and an ended session's counts never change. Runs on a worker thread, never the UI's loop.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from contextree.cli.sessions import duration_ms
from contextree.progress import Event, EventStore, SessionRecord
from contextree.progress.session import ACTIVE
from contextree.progress.state import replay

TAIL_EVENTS = 8
REPLAY_FOR_COUNTS_LIMIT = 20_000
"""An ended or interrupted session without a summary event is replayed for its counts (once:
they cannot change) if it has at most this many events. A running one is not: its counts are
shown once it ends."""
TREE_META_DB = "meta"
TREE_SUMMARY_KEY = b"tree.summary"


@dataclass(frozen=True)
class NodeCounts:
    done: int | None = None
    failed: int | None = None


@dataclass(frozen=True)
class SessionRow:
    """One line of the history: a session record and its summary figures."""

    record: SessionRecord
    event_count: int
    duration_ms: int | None
    counts: NodeCounts

    @property
    def session_id(self) -> str:
        return self.record.session_id

    @property
    def status(self) -> str:
        return self.record.status


@dataclass(frozen=True)
class TreeSummary:
    """The engine's `tree.summary`: counts of the scanned workspace."""

    node_count: int
    file_count: int
    dir_count: int
    total_bytes: int
    root_id: str | None
    updated_at: str | None


@dataclass(frozen=True)
class StoreSnapshot:
    """Everything the dashboard and history need, as of one moment."""

    rows: list[SessionRow] = field(default_factory=list)
    tree: TreeSummary | None = None
    store_path: Path | None = None
    taken_s: float = 0.0

    def status_counts(self) -> Counter[str]:
        return Counter(row.status for row in self.rows)

    def active(self) -> list[SessionRow]:
        return [row for row in self.rows if row.status == ACTIVE]


class SnapshotReader:
    """Reads `StoreSnapshot`s, caching per-session node counts between reads."""

    def __init__(self, store: EventStore, *, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self._clock = clock
        self._counts: dict[str, tuple[int, NodeCounts]] = {}

    def read(self) -> StoreSnapshot:
        now_s = self._clock()
        rows = []
        seen = set()
        for record in self.store.list_sessions():
            meta = self.store.get_meta(record.session_id)
            event_count = meta.event_count if meta else 0
            last_seq = meta.next_seq - 1 if meta else 0
            rows.append(SessionRow(
                record=record, event_count=event_count,
                duration_ms=duration_ms(record, now_s),
                counts=self._node_counts(record, event_count, last_seq),
            ))
            seen.add(record.session_id)
        for gone in set(self._counts) - seen:
            del self._counts[gone]
        return StoreSnapshot(rows=rows, tree=read_tree_summary(self.store),
                             store_path=self.store.path, taken_s=now_s)

    def _node_counts(self, record: SessionRecord, event_count: int, last_seq: int) -> NodeCounts:
        cached = self._counts.get(record.session_id)
        if cached is not None and cached[0] == event_count:
            return cached[1]
        counts = counts_from_tail(
            self.store.read_events(record.session_id, after_seq=max(0, last_seq - TAIL_EVENTS))
        )
        if counts is None and record.status != ACTIVE and event_count <= REPLAY_FOR_COUNTS_LIMIT:
            state = replay(self.store.read_events(record.session_id))
            counts = NodeCounts(state.completed_count, state.failed_count) if state.nodes \
                else NodeCounts()
        counts = counts or NodeCounts()
        self._counts[record.session_id] = (event_count, counts)
        return counts


def counts_from_tail(events: list[Event]) -> NodeCounts | None:
    """Node counts from the summary events at a session's end, or None if there are none."""
    for event in reversed(events):
        data = event.data
        if event.type in ("generation_completed", "generation_failed"):
            return NodeCounts(_int(data.get("total_generated")), _int(data.get("total_failed")))
        if event.type == "scan_completed":
            return NodeCounts(_int(data.get("node_count")), _int(data.get("skipped_count")))
    return None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def read_tree_summary(store: EventStore) -> TreeSummary | None:
    """The engine's tree summary, if the engine has written one (never creates its database)."""
    with store.read() as txn:
        exists = txn.get(TREE_META_DB.encode("ascii")) is not None
    if not exists:
        return None
    meta_db = store.open_db(TREE_META_DB)
    with store.read() as txn:
        raw = txn.get(TREE_SUMMARY_KEY, db=meta_db)
    if raw is None:
        return None
    try:
        value = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return None
    if not isinstance(value, dict):
        return None
    return TreeSummary(
        node_count=_int(value.get("node_count")) or 0,
        file_count=_int(value.get("file_count")) or 0,
        dir_count=_int(value.get("dir_count")) or 0,
        total_bytes=_int(value.get("total_bytes")) or 0,
        root_id=value.get("root_id") if isinstance(value.get("root_id"), str) else None,
        updated_at=value.get("updated_at") if isinstance(value.get("updated_at"), str) else None,
    )
