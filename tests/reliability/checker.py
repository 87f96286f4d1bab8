"""The invariant checker of the reliability matrix.

`check_store(path)` opens a store the way any reader would and verifies, for every session:
events decode and name their own session and seq; seq runs 1..n with no gap or duplicate;
`session_started` is seq 1; the meta snapshot agrees with the events (a partial batch would
break this, since events and meta commit in one transaction); an ended record ends with
`session_ended` (or `ingest_failed`) as its last event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from contextree.progress import EventStore
from contextree.progress.event import decode_event_or_none, split_event_key


@dataclass
class StoreReport:
    sessions: int = 0
    events: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)


def check_store(path: Path, only: set[str] | None = None) -> StoreReport:
    report = StoreReport()
    store = EventStore.open(path, create=False)
    try:
        for record in store.list_sessions():
            if only is not None and record.session_id not in only:
                continue
            report.sessions += 1
            report.by_status[record.status] = report.by_status.get(record.status, 0) + 1
            report.violations.extend(_check_session(store, record.session_id, record.ended_at,
                                                    report))
    finally:
        store.close()
    return report


def _check_session(store: EventStore, sid: str, ended_at: str | None,
                   report: StoreReport) -> list[str]:
    problems: list[str] = []
    pairs = store.read_raw_events(sid)
    report.events += len(pairs)
    types: list[str] = []
    for expected, (key, raw) in enumerate(pairs, start=1):
        key_sid, seq = split_event_key(key)
        event = decode_event_or_none(raw, key)
        if event is None:
            problems.append(f"{sid}: undecodable event at seq {seq}")
            continue
        if seq != expected:
            problems.append(f"{sid}: seq {seq} where {expected} was expected (gap or duplicate)")
            break
        if event.seq != seq or event.session != sid or key_sid != sid:
            problems.append(
                f"{sid}: event at key seq {seq} says session/seq {event.session}/{event.seq}"
            )
        types.append(event.type)
    if types and types[0] != "session_started":
        problems.append(f"{sid}: first event is {types[0]}, not session_started")
    meta = store.get_meta(sid)
    if meta is None:
        problems.append(f"{sid}: no meta")
    elif meta.next_seq != len(pairs) + 1 or meta.event_count != len(pairs):
        problems.append(f"{sid}: meta next_seq={meta.next_seq} event_count={meta.event_count} "
                        f"but {len(pairs)} events are stored (partial batch?)")
    if ended_at is not None and types and types[-1] not in ("session_ended", "ingest_failed"):
        problems.append(f"{sid}: ended record but last event is {types[-1]}")
    return problems
