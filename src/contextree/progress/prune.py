"""Deleting many sessions in few write transactions, each bounded.

Pruning one session per transaction paid one fsynced commit per session. `delete_in_batches`
deletes up to `MAX_SESSIONS_PER_WRITE` sessions, or until `MAX_EVENTS_PER_WRITE` events are
gone, per transaction: few commits, and no prune holds the write lock long enough to stall
the writers waiting behind it.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from contextree.progress.event import parse_ts
from contextree.progress.session import SessionMeta, SessionRecord, last_heartbeat_s

if TYPE_CHECKING:
    from contextree.progress.store import Transaction

MAX_SESSIONS_PER_WRITE = 100
MAX_EVENTS_PER_WRITE = 50_000


def delete_in_batches(
    write: Callable[[Callable[[Transaction], None]], object],
    delete_in: Callable[[Transaction, str], int],
    session_ids: Sequence[str],
    *,
    max_sessions: int = MAX_SESSIONS_PER_WRITE,
    max_events: int = MAX_EVENTS_PER_WRITE,
) -> int:
    """Delete `session_ids` in order: `write` runs a function in one committed write
    transaction, `delete_in` deletes one session in it and says how many events it removed.
    Returns how many transactions were committed."""
    remaining = deque(session_ids)
    commits = 0

    def delete_some(txn: Transaction) -> None:
        events = sessions = 0
        while remaining and sessions < max_sessions and events < max_events:
            events += delete_in(txn, remaining.popleft())
            sessions += 1

    while remaining:
        write(delete_some)
        commits += 1
    return commits


def last_sign_of_life_s(record: SessionRecord, meta: SessionMeta | None) -> float | None:
    """When an unended session last showed its owner alive: its heartbeat, its last event,
    else its start."""
    candidates = [last_heartbeat_s(record, meta)]
    if meta is not None and meta.last_ts:
        with contextlib.suppress(ValueError):
            candidates.append(parse_ts(meta.last_ts))
    known = [t for t in candidates if t is not None]
    return max(known) if known else None


def abandoned(
    interrupted: Sequence[SessionRecord],
    metas: dict[str, SessionMeta],
    *,
    max_age_s: float,
    now_s: float,
) -> list[SessionRecord]:
    """The interrupted sessions whose owner was last seen alive more than `max_age_s` ago."""
    doomed = []
    for record in interrupted:
        seen = last_sign_of_life_s(record, metas.get(record.session_id))
        if seen is not None and now_s - seen > max_age_s:
            doomed.append(record)
    return doomed
