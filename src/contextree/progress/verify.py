"""Integrity check of stored sessions: is what the store holds whole and self-consistent?

Per session it checks that seqs run contiguously from 1, that `session_started` comes first and
one `session_ended` (or `ingest_failed`) last, that the meta snapshot and the record agree with
the events, that every stored value decodes, and that replaying the events reproduces the
counts and tokens the session's own `command_summary` states. Each finding is one `Problem`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import msgspec

from contextree.progress.catalog import EventType
from contextree.progress.event import Event, decode_event, session_prefix
from contextree.progress.reducer import apply_event
from contextree.progress.schema import OBS_SESSION_META, OBS_SESSIONS
from contextree.progress.session import ACTIVE, ENDED_STATUSES, SessionMeta, SessionRecord
from contextree.progress.state import SessionState
from contextree.progress.store import EventStore

TERMINAL_TYPES = frozenset({EventType.SESSION_ENDED, EventType.INGEST_FAILED})
"""The events that end a session: its own end, or the ingestor's failure end."""

_record_decoder = msgspec.json.Decoder(SessionRecord)
_meta_decoder = msgspec.json.Decoder(SessionMeta)


class _Report(Protocol):
    def __call__(self, message: str, seq: int | None = None) -> None: ...


@dataclass(frozen=True)
class Problem:
    """One way a stored session is not whole; `seq` names the event where there is one."""

    session_id: str
    message: str
    seq: int | None = None

    def line(self) -> str:
        where = f" seq {self.seq}" if self.seq is not None else ""
        return f"{self.session_id}{where}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        return {"session_id": self.session_id, "seq": self.seq, "message": self.message}


@dataclass
class StoredSession:
    """The raw stored parts of one session, as read from the store."""

    session_id: str
    record_raw: bytes | None
    meta_raw: bytes | None
    events: Iterable[tuple[bytes, bytes]]
    live: bool = False
    """The owner still runs: events newer than the meta snapshot are allowed."""


@dataclass
class _Walk:
    """What the walk over a session's events has learned so far."""

    state: SessionState = field(default_factory=SessionState)
    stored: int = 0
    last_seq: int = 0
    terminal: Event | None = None
    within_meta: int = 0
    """Stored events with seq below the meta's `next_seq`."""


def check_session(stored: StoredSession) -> list[Problem]:
    """Every problem of one stored session (an empty list: it is whole)."""
    problems: list[Problem] = []
    sid = stored.session_id

    def report(message: str, seq: int | None = None) -> None:
        problems.append(Problem(sid, message, seq))

    record = _decode(stored.record_raw, _record_decoder, "session record", report)
    meta = _decode(stored.meta_raw, _meta_decoder, "meta", report)
    walk = _walk_events(sid, stored.events, meta, report)
    if walk.stored == 0:
        report("no events stored")
    if record is not None:
        _check_end(record, walk, report)
    if meta is not None:
        _check_meta(meta, record, walk, stored.live, report)
    _check_summary(walk.state, report)
    return problems


def _decode(raw: bytes | None, decoder: msgspec.json.Decoder[Any], what: str,
            report: _Report) -> Any:
    if raw is None:
        report(f"no {what} stored")
        return None
    try:
        return decoder.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        report(f"the {what} does not decode: {exc}")
        return None


def _walk_events(session_id: str, events: Iterable[tuple[bytes, bytes]],
                 meta: SessionMeta | None, report: _Report) -> _Walk:
    walk = _Walk()
    prefix_length = len(session_prefix(session_id))
    for key, raw in events:
        seq = int(key[prefix_length:])
        walk.stored += 1
        if meta is not None and seq < meta.next_seq:
            walk.within_meta += 1
        if seq != walk.last_seq + 1:
            report(f"seq gap: expected {walk.last_seq + 1}, found {seq}", seq)
        walk.last_seq = seq
        event = _decode_event(session_id, seq, raw, report)
        if event is None:
            continue
        _check_order(walk, event, report)
        apply_event(walk.state, event)
    return walk


def _decode_event(session_id: str, seq: int, raw: bytes, report: _Report) -> Event | None:
    try:
        event = decode_event(raw)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        report(f"the event does not decode: {exc}", seq)
        return None
    if event.seq != seq or event.session != session_id:
        report(f"the event says session {event.session} seq {event.seq}, its key says "
               f"session {session_id} seq {seq}", seq)
    return event


def _check_order(walk: _Walk, event: Event, report: _Report) -> None:
    first = walk.stored == 1
    if first and event.type != EventType.SESSION_STARTED:
        report(f"the first event is {event.type}, not session_started", event.seq)
    if not first and event.type == EventType.SESSION_STARTED:
        report("a second session_started", event.seq)
    if walk.terminal is not None:
        report(f"{event.type} after {walk.terminal.type} at seq {walk.terminal.seq}", event.seq)
    if event.type in TERMINAL_TYPES and walk.terminal is None:
        walk.terminal = event


def _check_end(record: SessionRecord, walk: _Walk, report: _Report) -> None:
    end = walk.terminal
    if record.status in ENDED_STATUSES:
        if end is None:
            report(f"the record says {record.status} but no session_ended is stored")
            return
        ended_as = _end_status(end)
        if ended_as != record.status:
            report(f"the record says {record.status}, {end.type} says {ended_as}", end.seq)
    elif end is not None:
        report(f"the record says {record.status} but {end.type} is stored", end.seq)


def _end_status(end: Event) -> str:
    if end.type == EventType.INGEST_FAILED:
        return "failed"
    status = end.data.get("status")
    return status if isinstance(status, str) else "?"


def _check_meta(meta: SessionMeta, record: SessionRecord | None, walk: _Walk, live: bool,
                report: _Report) -> None:
    counted = walk.within_meta if live else walk.stored
    if counted != meta.event_count:
        report(f"meta counts {meta.event_count} events, {counted} are stored")
    behind = not live and walk.last_seq >= meta.next_seq
    if behind or meta.next_seq - 1 > walk.last_seq:
        report(f"meta next_seq is {meta.next_seq}, the last stored seq is {walk.last_seq}")
    if record is not None and meta.status != record.status:
        report(f"meta status is {meta.status}, the record's is {record.status}")


SUMMARY_CHECKS: tuple[tuple[str, str], ...] = (
    ("generated", "completed nodes"), ("failed", "failed nodes"), ("skipped", "skipped nodes"),
    ("input_tokens", "input tokens"), ("output_tokens", "output tokens"),
)
"""The `command_summary` counts a replay must reproduce, and what they count."""


def replayed_counts(state: SessionState) -> dict[str, int]:
    """The replayed values of the `SUMMARY_CHECKS` counts."""
    return {"generated": state.completed_count, "failed": state.failed_count,
            "skipped": state.skipped_count, "input_tokens": state.provider.input_tokens,
            "output_tokens": state.provider.output_tokens}


def _check_summary(state: SessionState, report: _Report) -> None:
    replayed = replayed_counts(state)
    for key, what in SUMMARY_CHECKS:
        stated = state.summary.get(key)
        if not isinstance(stated, int) or isinstance(stated, bool):
            continue  # this command's summary does not state it
        if replayed[key] != stated:
            report(f"command_summary states {stated} {what}, the replay finds {replayed[key]}")


# -- reading the store -----------------------------------------------------------------


def stored_session_ids(store: EventStore) -> list[str]:
    """Every session the store knows of: those with a record or a meta snapshot, in order."""
    ids: set[bytes] = set()
    for name in (OBS_SESSIONS, OBS_SESSION_META):
        db = store.find_db(name)
        if db is None:
            continue
        with store.read() as txn:
            ids.update(bytes(key) for key in txn.cursor(db=db).iternext(values=False))
    return sorted(key.decode("ascii", "replace") for key in ids)


def read_stored(store: EventStore, session_id: str) -> StoredSession:
    """The stored parts of one session; its record and meta come from one read transaction,
    its events are streamed after it (a live session may have added some since)."""
    key = session_id.encode("ascii")
    sessions_db, meta_db = store.find_db(OBS_SESSIONS), store.find_db(OBS_SESSION_META)
    with store.read() as txn:
        record_raw = txn.get(key, db=sessions_db) if sessions_db is not None else None
        meta_raw = txn.get(key, db=meta_db) if meta_db is not None else None
    live = False
    if record_raw is not None:
        try:
            live = store.status_of(_record_decoder.decode(record_raw)) == ACTIVE
        except (msgspec.DecodeError, msgspec.ValidationError):
            live = False
    return StoredSession(session_id, record_raw, meta_raw,
                         store.iter_raw_events(session_id), live=live)


def verify_sessions(store: EventStore, session_ids: Iterable[str]) -> Iterator[Problem]:
    """The problems of each session in turn (streamed: one session in memory at a time)."""
    for session_id in session_ids:
        yield from check_session(read_stored(store, session_id))
