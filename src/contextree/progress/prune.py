"""Deleting many sessions in few write transactions, each bounded.

Pruning one session per transaction paid one fsynced commit per session. `delete_in_batches`
deletes up to `MAX_SESSIONS_PER_WRITE` sessions, or until `MAX_EVENTS_PER_WRITE` events are
gone, per transaction: few commits, and no prune holds the write lock long enough to stall
the writers waiting behind it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

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
