"""The ingestor: the single writer thread of a process.

It blocks on the bus, drains everything queued (up to a batch limit), assigns each event the
next `seq` of its session and commits the whole batch in one LMDB write transaction (group
commit): a lone event is durable within a few milliseconds, a burst is absorbed in few commits.
A commit that fails is retried once; if it fails again the batch is committed one session at
a time, so only the sessions whose own writes fail are marked `failed` (with a best-effort
`ingest_failed`; their later events are dropped and counted) and the others, in this batch and
later ones, go on. Flush requests are released only after the batch holding them commits.
Every meta it writes carries a heartbeat; when no commit has carried one for a heartbeat
interval, it rewrites the metas of all open sessions on its own (SPEC §5, liveness).
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import msgspec

from contextree.errors import IngestError
from contextree.progress.bus import (
    BusItem,
    EndSession,
    EventBus,
    FlushRequest,
    StartSession,
    StopIngestor,
)
from contextree.progress.catalog import EventType
from contextree.progress.event import (
    assemble_event,
    decode_event,
    encode_payload,
    event_key,
    format_ts,
)
from contextree.progress.liveness import HEARTBEAT_INTERVAL_S
from contextree.progress.session import FAILED, SessionMeta, SessionRecord
from contextree.progress.store import EventStore

log = logging.getLogger(__name__)

MAX_BATCH = 16_384


@dataclass
class _SessionState:
    record: SessionRecord
    next_seq: int = 1
    last_ts: str | None = None
    failed: bool = False
    lost: int = 0


@dataclass
class _Batch:
    events: list[tuple[bytes, bytes]] = field(default_factory=list)
    records: dict[str, SessionRecord] = field(default_factory=dict)
    next_seq: dict[str, int] = field(default_factory=dict)
    last_ts: dict[str, str] = field(default_factory=dict)
    flushes: list[FlushRequest] = field(default_factory=list)
    stop: bool = False


class Ingestor(threading.Thread):
    """Drains the bus and commits batches; one per process (see `ProgressRuntime`)."""

    def __init__(
        self,
        store: EventStore,
        bus: EventBus,
        *,
        max_batch: int = MAX_BATCH,
        heartbeat_interval_s: float = HEARTBEAT_INTERVAL_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(name="contextree-ingestor", daemon=True)
        self.store = store
        self.bus = bus
        self.max_batch = max_batch
        self.heartbeat_interval_s = heartbeat_interval_s
        self.clock = clock
        """Stamps heartbeats (seconds since the epoch)."""
        self._next_beat = 0.0
        """When (monotonic) the metas of all open sessions are next rewritten."""
        self.failure: IngestError | None = None
        """The most recent failure (kept for `take_failure` and `failure_of`)."""
        self._failures: dict[str, IngestError] = {}
        self._unreported: IngestError | None = None
        self._failure_lock = threading.Lock()
        self.committed_events = 0
        self.commit_count = 0
        self._sessions: dict[str, _SessionState] = {}
        self._owner_pid = os.getpid()

    def take_failure(self) -> IngestError | None:
        """The failure not yet reported by a flush, if any; each is reported once."""
        with self._failure_lock:
            failure, self._unreported = self._unreported, None
        return failure

    def failure_of(self, session_id: str) -> IngestError | None:
        """Why `session_id`'s events could not be stored, or None."""
        with self._failure_lock:
            return self._failures.get(session_id)

    def run(self) -> None:
        stop = False
        while not stop:
            try:
                first = self.bus.get(timeout=self._until_beat())
            except queue.Empty:
                self._beat()
                continue
            items = self.bus.drain(first, self.max_batch)
            stop = self._process(items)

    def _open_sessions(self) -> list[str]:
        return [sid for sid, state in self._sessions.items() if not state.failed]

    def _until_beat(self) -> float | None:
        """How long the bus may stay quiet before a heartbeat is due (None: no open session)."""
        if not self._open_sessions():
            return None
        return max(0.0, self._next_beat - time.monotonic())

    def _beat(self) -> None:
        """Rewrite the metas of all open sessions with a fresh heartbeat (a quiet bus)."""
        try:
            self._write_batch(_Batch())
        except Exception as exc:
            log.warning("could not write the sessions' heartbeat: %s", exc)
            self._next_beat = time.monotonic() + self.heartbeat_interval_s

    def _process(self, items: list[BusItem]) -> bool:
        batch = self._build(items)
        if batch.events or batch.records:
            self._commit(batch)
        for flush in batch.flushes:
            flush.done.set()
        return batch.stop

    def _build(self, items: list[BusItem]) -> _Batch:
        batch = _Batch()
        sessions = self._sessions
        for item in items:
            if isinstance(item, tuple):
                session_id, event_type, payload, t = item
                self._add_event(batch, sessions.get(session_id), session_id, event_type, payload, t)
            elif isinstance(item, StartSession):
                sid = item.record.session_id
                state = sessions[sid] = _SessionState(record=item.record)
                batch.records[sid] = item.record
                self._add_event(batch, state, sid, EventType.SESSION_STARTED, item.payload, item.ts)
            elif isinstance(item, EndSession):
                self._add_end(batch, item)
            elif isinstance(item, FlushRequest):
                batch.flushes.append(item)
            elif isinstance(item, StopIngestor):
                batch.stop = True
        return batch

    def _add_event(
        self,
        batch: _Batch,
        state: _SessionState | None,
        session_id: str,
        event_type: str,
        payload: bytes,
        t: float,
    ) -> None:
        if state is None or state.failed:
            if state is not None:
                state.lost += 1
            else:
                log.warning("dropping event %s of unknown session %s", event_type, session_id)
            return
        seq = batch.next_seq.get(session_id, state.next_seq)
        ts = format_ts(t)
        batch.events.append(
            (event_key(session_id, seq), assemble_event(ts, session_id, seq, event_type, payload))
        )
        batch.next_seq[session_id] = seq + 1
        batch.last_ts[session_id] = ts

    def _add_end(self, batch: _Batch, end: EndSession) -> None:
        state = self._sessions.get(end.session_id)
        if state is None:
            return
        if state.failed:
            return  # its failure end was written when the commit failed
        self._add_event(batch, state, end.session_id, EventType.SESSION_ENDED, end.payload, end.ts)
        record = batch.records.get(end.session_id) or state.record
        batch.records[end.session_id] = msgspec.structs.replace(
            record, status=end.status, error=end.error, ended_at=format_ts(end.ts)
        )

    def _commit(self, batch: _Batch) -> None:
        try:
            self._write_batch(batch)
        except Exception as first:
            log.warning("commit failed, retrying once: %s", first)
            try:
                self._write_batch(batch)
            except Exception as second:
                self._commit_each_session(batch, second)
                return
        self._committed(batch)

    def _commit_each_session(self, batch: _Batch, error: Exception) -> None:
        """The batch failed twice: commit it again without the failing session, that is one
        session at a time, so one session's bad data never costs another its events."""
        parts = _split_by_session(batch)
        if len(parts) == 1:
            self._fail_batch(batch, error)
            return
        for part in parts:
            try:
                self._write_batch(part)
            except Exception as part_error:
                self._fail_batch(part, part_error)
            else:
                self._committed(part)

    def _committed(self, batch: _Batch) -> None:
        for sid, next_seq in batch.next_seq.items():
            state = self._sessions[sid]
            state.next_seq = next_seq
            state.last_ts = batch.last_ts[sid]
        for sid, record in batch.records.items():
            self._sessions[sid].record = record
            if record.ended_at is not None:
                del self._sessions[sid]
        self.committed_events += len(batch.events)
        self.commit_count += 1
        if self.bus.has_subscribers():
            self.bus.publish([decode_event(value) for _, value in batch.events])

    def _write_batch(self, batch: _Batch) -> None:
        """Commit `batch` with a heartbeat in each open session's meta it writes (an ended
        session's has none); when a heartbeat is due, with the metas of every open session."""
        beat_due = time.monotonic() >= self._next_beat
        session_ids = set(batch.next_seq) | set(batch.records)
        if beat_due:
            session_ids.update(self._open_sessions())
        heartbeat_at = format_ts(self.clock())
        metas: dict[str, SessionMeta] = {}
        for sid in session_ids:
            state = self._sessions[sid]
            next_seq = batch.next_seq.get(sid, state.next_seq)
            record = batch.records.get(sid, state.record)
            metas[sid] = SessionMeta(
                next_seq=next_seq, status=record.status,
                last_ts=batch.last_ts.get(sid, state.last_ts), event_count=next_seq - 1,
                heartbeat_at=heartbeat_at if record.ended_at is None else None,
            )
        if not (metas or batch.events):
            return
        self.store.commit_batch(records=batch.records, events=batch.events, metas=metas)
        if beat_due:
            self._next_beat = time.monotonic() + self.heartbeat_interval_s

    def _fail_batch(self, batch: _Batch, error: Exception) -> None:
        message = f"could not write events to {self.store.path}: {error}"
        log.error("%s; marking sessions failed", message)
        failure = IngestError(message + " — free disk space or check the store, then rerun")
        with self._failure_lock:
            self.failure = self._unreported = failure
            self._failures.update(dict.fromkeys(set(batch.next_seq) | set(batch.records),
                                                failure))
        lost_by_session: dict[str, int] = {}
        for key, _ in batch.events:
            sid = key.decode("ascii").rpartition(":")[0]
            lost_by_session[sid] = lost_by_session.get(sid, 0) + 1
        for sid in set(lost_by_session) | set(batch.records):
            state = self._sessions.get(sid)
            if state is None:
                continue
            state.failed = True
            state.lost += lost_by_session.get(sid, 0)
            self._write_failure_end(state)

    def _write_failure_end(self, state: _SessionState) -> None:
        """Best effort: `ingest_failed` and a `failed` record; a second failure is only logged."""
        ended_at = format_ts(time.time())
        record = msgspec.structs.replace(
            state.record, status=FAILED, error=f"events could not be stored: {self.failure}",
            ended_at=ended_at,
        )
        sid = record.session_id
        seq = state.next_seq
        payload = encode_payload({"error": str(self.failure), "lost_count": state.lost})
        value = assemble_event(ended_at, sid, seq, EventType.INGEST_FAILED, payload)
        meta = SessionMeta(next_seq=seq + 1, status=FAILED, last_ts=ended_at,
                           event_count=seq)

        try:
            self.store.commit_batch(records={sid: record}, events=[(event_key(sid, seq), value)],
                                    metas={sid: meta})
            state.next_seq = seq + 1
            state.record = record
        except Exception as exc:
            log.error("could not record the failure of session %s: %s", sid, exc)



def _split_by_session(batch: _Batch) -> list[_Batch]:
    """`batch` as one batch per session (events keep their order); no flushes or stop."""
    parts: dict[str, _Batch] = {}
    for key, value in batch.events:
        sid = key.decode("ascii").rpartition(":")[0]
        parts.setdefault(sid, _Batch()).events.append((key, value))
    for sid, record in batch.records.items():
        parts.setdefault(sid, _Batch()).records[sid] = record
    for sid, part in parts.items():
        if sid in batch.next_seq:
            part.next_seq[sid] = batch.next_seq[sid]
            part.last_ts[sid] = batch.last_ts[sid]
    return list(parts.values())
