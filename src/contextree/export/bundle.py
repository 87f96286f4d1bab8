"""Lossless session bundles: sessions as JSON lines, exactly as stored, and back.

A bundle is, per session, one line `{"bundle":"ctree.session","record":<record>}` followed by
the session's events, each line the stored value byte for byte. Importing checks the whole
file first (well-formed lines, every event after its record, seq 1, 2, 3… without a gap, no
session that the store has already) and then writes everything in one transaction: a bundle
is imported whole or not at all, with the same ids, seq and timestamps.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import lmdb
import msgspec

from contextree.errors import BundleError
from contextree.progress.event import Event, event_key, split_event_key
from contextree.progress.session import SessionMeta, SessionRecord
from contextree.progress.store import EventStore, encode_meta

BUNDLE_KIND = "ctree.session"
_RECORD_PREFIX = b'{"bundle":"' + BUNDLE_KIND.encode() + b'","record":'
_record_decoder = msgspec.json.Decoder(SessionRecord)
_event_decoder = msgspec.json.Decoder(Event)


@dataclass
class BundledSession:
    """One session of a bundle: its stored record and its stored events."""

    record_raw: bytes
    record: SessionRecord
    events: list[bytes] = field(default_factory=list)
    last_ts: str | None = None


def write_bundle(store: EventStore, session_ids: Iterable[str], out: IO[bytes]) -> int:
    """Write each session's record and events to `out`; return the number of events."""
    count = 0
    for session_id in session_ids:
        with store.read() as txn:
            record = txn.get(session_id.encode("ascii"), db=store.sessions_db)
        if record is None:
            raise BundleError(f"session {session_id} has no record in the store")
        out.write(_RECORD_PREFIX + bytes(record) + b"}\n")
        after = 0
        while True:
            pairs = store.read_raw_events(session_id, after_seq=after, limit=5000)
            for _, raw in pairs:
                out.write(bytes(raw) + b"\n")
            count += len(pairs)
            if len(pairs) < 5000:
                break
            after = split_event_key(pairs[-1][0])[1]
    return count


def read_bundle(lines: Iterable[bytes], name: str) -> list[BundledSession]:
    """Parse and check a bundle; raise `BundleError` naming the first bad line."""
    sessions: list[BundledSession] = []
    for number, line in _numbered(lines):
        where = f"line {number} of {name}"
        if line.startswith(_RECORD_PREFIX) and line.endswith(b"}"):
            sessions.append(_parse_record(line[len(_RECORD_PREFIX):-1], where))
            continue
        if not sessions:
            raise BundleError(f"{where} is not a session record — a bundle starts with one "
                              "(write bundles with `ctree export jsonl`)")
        _add_event(sessions[-1], line, where)
    if not sessions:
        raise BundleError(f"{name} holds no session — write one with `ctree export jsonl ID`")
    return sessions


def import_bundle(store: EventStore, sessions: list[BundledSession]) -> None:
    """Write checked sessions in one transaction; refuse if any exists already."""
    def write(txn: lmdb.Transaction) -> None:
        for session in sessions:
            key = session.record.session_id.encode("ascii")
            if txn.get(key, db=store.sessions_db) is not None:
                raise BundleError(f"session {session.record.session_id} already exists in this "
                                  "store — delete it first with `ctree sessions delete` or skip it")
            txn.put(key, session.record_raw, db=store.sessions_db)
            for seq, raw in enumerate(session.events, start=1):
                txn.put(event_key(session.record.session_id, seq), raw, db=store.events_db)
            meta = SessionMeta(next_seq=len(session.events) + 1, status=session.record.status,
                               last_ts=session.last_ts, event_count=len(session.events))
            txn.put(key, encode_meta(meta), db=store.meta_db)

    _check_unique(sessions)
    store.write(write)


def _numbered(lines: Iterable[bytes]) -> Iterator[tuple[int, bytes]]:
    for number, line in enumerate(lines, start=1):
        stripped = line.rstrip(b"\r\n")
        if stripped:
            yield number, stripped


def _parse_record(raw: bytes, where: str) -> BundledSession:
    try:
        record = _record_decoder.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise BundleError(f"{where} is not a valid session record: {exc}") from None
    if len(record.session_id) != 26 or not record.session_id.isalnum():
        raise BundleError(f"{where} names a malformed session id {record.session_id!r}")
    return BundledSession(record_raw=raw, record=record)


def _add_event(session: BundledSession, raw: bytes, where: str) -> None:
    try:
        event = _event_decoder.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise BundleError(f"{where} is not a valid event: {exc}") from None
    session_id = session.record.session_id
    if event.session != session_id:
        raise BundleError(f"{where} is an event of session {event.session}, not of "
                          f"{session_id} whose record precedes it")
    expected = len(session.events) + 1
    if event.seq != expected:
        raise BundleError(f"{where}: session {session_id} jumps from seq {expected - 1} to "
                          f"{event.seq} — the bundle is incomplete; export it again")
    session.events.append(raw)
    session.last_ts = event.ts


def _check_unique(sessions: list[BundledSession]) -> None:
    seen: set[str] = set()
    for session in sessions:
        if session.record.session_id in seen:
            raise BundleError(f"session {session.record.session_id} appears twice in the "
                              "bundle — export each session once")
        seen.add(session.record.session_id)


def describe(sessions: list[BundledSession]) -> dict[str, Any]:
    """Counts for the command's one-line report."""
    return {"sessions": len(sessions), "events": sum(len(s.events) for s in sessions)}
