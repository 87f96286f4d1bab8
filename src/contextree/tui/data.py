"""What the dashboard and the history show, read from the store in one snapshot.

`SnapshotReader.read()` lists every session with its effective status, event count, duration
and node counts, plus the workspace tree summary if the engine has written one. A running
session also gets its progress: the reader keeps its state model and folds in only the events
committed since the last read (a cursor seek), so following a long session stays cheap. Node counts
come from the tail of a session (`generation_completed`, `scan_completed`, …) — a cursor seek,
not a rescan — or, for a short session without such an event, from a replay; they are cached,
and an ended session's counts never change. Context coverage per agent is read at most every
`COVERAGE_REFRESH_S` (it reads the whole tree). Runs on a worker thread, never the UI's loop.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from contextree.engine.workspace.tree import TreeStore, TreeSummary
from contextree.errors import ContextreeError
from contextree.progress import EventStore, SessionRecord
from contextree.progress.reducer import apply_events, counts_from_tail, replay
from contextree.progress.session import ACTIVE, duration_ms
from contextree.progress.state import NodeCounts, SessionState

if TYPE_CHECKING:
    from contextree.engine.workspace.layout import Workspace

TAIL_EVENTS = 8
REPLAY_FOR_COUNTS_LIMIT = 20_000
"""An ended or interrupted session without a summary event is replayed for its counts (once:
they cannot change) if it has at most this many events. A running one is not: its counts are
shown once it ends."""
COVERAGE_REFRESH_S = 2.0


@dataclass(frozen=True)
class Progress:
    """How far a running session has got, for the dashboard and the history."""

    done: int
    """Nodes generated, failed or skipped (a scan: nodes hashed so far)."""
    total: int | None
    """Nodes planned; None while unknown (a scan, a watch)."""
    level: int | None = None
    """The current level, counted from 1 as people count; None outside a generation."""
    levels: int | None = None

    @property
    def ratio(self) -> float | None:
        return min(1.0, self.done / self.total) if self.total else None


def progress_of(state: SessionState) -> Progress | None:
    """The progress of a running session's state, or None before it has any."""
    if state.total_nodes:
        level = state.current_level + 1 if state.current_level is not None else None
        return Progress(done=state.done_count, total=state.total_nodes, level=level,
                        levels=state.total_levels or None)
    if state.event_types["scan_started"]:
        return Progress(done=state.scan.node_count, total=None)
    return None


@dataclass(frozen=True)
class SessionRow:
    """One line of the history: a session record and its summary figures."""

    record: SessionRecord
    event_count: int
    duration_ms: int | None
    counts: NodeCounts
    progress: Progress | None = None
    """Set while the session runs."""

    @property
    def session_id(self) -> str:
        return self.record.session_id

    @property
    def status(self) -> str:
        return self.record.status


@dataclass(frozen=True)
class StoreSnapshot:
    """Everything the dashboard and history need, as of one moment."""

    rows: list[SessionRow] = field(default_factory=list)
    tree: TreeSummary | None = None
    store_path: Path | None = None
    taken_s: float = 0.0
    coverage: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Each configured agent's `(covered, total)` nodes of the scanned tree."""

    def status_counts(self) -> Counter[str]:
        return Counter(row.status for row in self.rows)

    def active(self) -> list[SessionRow]:
        return [row for row in self.rows if row.status == ACTIVE]


def operation_changes(before: StoreSnapshot, after: StoreSnapshot
                      ) -> tuple[list[SessionRow], list[SessionRow]]:
    """The sessions that started and those that ended between two snapshots (a session
    deleted meanwhile is neither)."""
    was_active = {row.session_id for row in before.rows if row.status == ACTIVE}
    known = {row.session_id for row in before.rows}
    started = [row for row in after.rows
               if row.status == ACTIVE and row.session_id not in known]
    ended = [row for row in after.rows
             if row.session_id in was_active and row.status != ACTIVE]
    return started, ended


class SnapshotReader:
    """Reads `StoreSnapshot`s, caching per-session node counts between reads."""

    def __init__(self, store: EventStore, *, workspace: Workspace | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.workspace = workspace
        self._clock = clock
        self._counts: dict[str, tuple[int, NodeCounts]] = {}
        self._running: dict[str, SessionState] = {}
        self._coverage: dict[str, tuple[int, int]] = {}
        self._coverage_read_at: float | None = None

    def read(self) -> StoreSnapshot:
        now_s = self._clock()
        rows = []
        seen = set()
        records = self.store.list_sessions()
        metas = self.store.get_metas(record.session_id for record in records)
        for record in records:
            meta = metas.get(record.session_id)
            event_count = meta.event_count if meta else 0
            last_seq = meta.next_seq - 1 if meta else 0
            rows.append(SessionRow(
                record=record, event_count=event_count,
                duration_ms=duration_ms(record, now_s),
                counts=self._node_counts(record, event_count, last_seq),
                progress=self._progress(record) if record.status == ACTIVE else None,
            ))
            seen.add(record.session_id)
        for gone in set(self._counts) - seen:
            del self._counts[gone]
        for ended in set(self._running) - {row.session_id for row in rows
                                            if row.status == ACTIVE}:
            del self._running[ended]
        return StoreSnapshot(rows=rows, tree=read_tree_summary(self.store),
                             store_path=self.store.path, taken_s=now_s,
                             coverage=self._read_coverage())

    def _read_coverage(self) -> dict[str, tuple[int, int]]:
        now = time.monotonic()
        if self._coverage_read_at is not None \
                and now - self._coverage_read_at < COVERAGE_REFRESH_S:
            return self._coverage
        self._coverage_read_at = now
        self._coverage = read_coverage(self.store, self.workspace)
        return self._coverage

    def _progress(self, record: SessionRecord) -> Progress | None:
        """Fold the events committed since the last read into the running session's state."""
        state = self._running.get(record.session_id)
        if state is None:
            state = self._running[record.session_id] = SessionState()
        apply_events(state, self.store.read_events(record.session_id, after_seq=state.last_seq))
        return progress_of(state)

    def _node_counts(self, record: SessionRecord, event_count: int, last_seq: int) -> NodeCounts:
        cached = self._counts.get(record.session_id)
        if cached is not None and cached[0] == event_count:
            return cached[1]
        counts = counts_from_tail(
            self.store.read_events(record.session_id, after_seq=max(0, last_seq - TAIL_EVENTS))
        )
        if counts is None and record.status != ACTIVE and event_count <= REPLAY_FOR_COUNTS_LIMIT:
            state = replay(self.store.iter_events(record.session_id))
            counts = NodeCounts(state.completed_count, state.failed_count) if state.nodes \
                else NodeCounts()
        counts = counts or NodeCounts()
        self._counts[record.session_id] = (event_count, counts)
        return counts


def read_coverage(store: EventStore, workspace: Workspace | None) -> dict[str, tuple[int, int]]:
    """Each configured agent's `(covered, total)`: nodes of the tree with current context.
    Empty before the first scan, or when the configuration cannot be read. (The engine's
    configuration and frame reading are imported here, on the poller's thread: the TUI's
    first paint does not wait for them.)"""
    from contextree.engine.generation.frames import FrameStore
    from contextree.engine.generation.read import coverage_source
    from contextree.engine.workspace.config import load_config

    tree = TreeStore.open_existing(store)
    if tree is None:
        return {}
    try:
        config = load_config(workspace)
    except ContextreeError:
        return {}
    records = tree.load_records()
    if not records:
        return {}
    if FrameStore.open_existing(store) is None:
        return {agent: (0, len(records)) for agent in config.agents}
    found = coverage_source(store, config)(records)
    return {agent: (value.covered, value.total) for agent, value in found.items()}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def read_tree_summary(store: EventStore) -> TreeSummary | None:
    """The engine's tree summary, if the engine has written one (never creates its database)."""
    tree = TreeStore.open_existing(store)
    return tree.read_summary() if tree is not None else None
