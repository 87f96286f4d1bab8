"""Following a session: new events by cursor seek, woken by LMDB's transaction id.

A follower remembers the last seq it saw and reads only `seq > last_seen`, with one cursor
seek — never a rescan. Between reads it polls the environment's last committed transaction
id (a read of shared memory, microseconds), so it notices another process's commit within a
poll interval and costs nothing while the session is quiet. It finishes when it has read
`session_ended`, or when the owner process is gone (the session is interrupted).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

from contextree.progress.catalog import EventType
from contextree.progress.event import Event, decode_event_or_none, split_event_key
from contextree.progress.session import ACTIVE
from contextree.progress.store import EventStore

DEFAULT_POLL_INTERVAL_S = 0.002
LIVENESS_INTERVAL_S = 0.5
TERMINAL_TYPES = frozenset({EventType.SESSION_ENDED, EventType.INGEST_FAILED})
_TERMINAL_MARKERS = tuple(f',"type":"{name}",'.encode() for name in TERMINAL_TYPES)
T = TypeVar("T")


def _is_terminal(raw: bytes) -> bool:
    return any(marker in raw for marker in _TERMINAL_MARKERS)


class Follower:
    """Incremental reader of one session's events (usable from any thread or process)."""

    def __init__(self, store: EventStore, session_id: str, after_seq: int = 0) -> None:
        self.store = store
        self.session_id = session_id
        self.last_seen = after_seq
        self.finished = False
        self._last_txn = -1
        self._last_liveness_check = 0.0
        self._owner_gone = False

    def poll(self) -> list[Event]:
        """New events since the last call; [] at once if nothing was committed anywhere."""
        events = []
        for key, raw in self.poll_raw():
            event = decode_event_or_none(raw, key)
            if event is not None:
                events.append(event)
        return events

    def poll_raw(self) -> list[tuple[bytes, bytes]]:
        """Like `poll`, but the stored `(key, value)` pairs, exactly as stored."""
        if self.finished:
            return []
        txn_id = self.store.last_txn_id()
        if txn_id == self._last_txn and not self._owner_gone:
            self._check_owner()
            return []
        self._last_txn = txn_id
        pairs = self.store.read_raw_events(self.session_id, after_seq=self.last_seen)
        if pairs:
            self.last_seen = split_event_key(pairs[-1][0])[1]
            if any(_is_terminal(raw) for _, raw in pairs[-2:]):
                self.finished = self._ended()
        elif self._owner_gone:
            self.finished = True
        else:
            self._check_owner()
        return pairs

    def wait(self, timeout: float, *, poll_interval: float = DEFAULT_POLL_INTERVAL_S,
             stop: threading.Event | None = None) -> list[Event]:
        """Poll until new events arrive, the session finishes, `stop` is set, or `timeout`."""
        return self._wait(self.poll, timeout, poll_interval, stop)

    def wait_raw(self, timeout: float, *, poll_interval: float = DEFAULT_POLL_INTERVAL_S,
                 stop: threading.Event | None = None) -> list[tuple[bytes, bytes]]:
        """`wait`, returning stored pairs."""
        return self._wait(self.poll_raw, timeout, poll_interval, stop)

    def _wait(self, poll: Callable[[], list[T]], timeout: float, poll_interval: float,
              stop: threading.Event | None) -> list[T]:
        deadline = time.monotonic() + timeout
        while True:
            events = poll()
            if events or self.finished or (stop is not None and stop.is_set()):
                return events
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            if stop is not None:
                stop.wait(min(poll_interval, remaining))
            else:
                time.sleep(min(poll_interval, remaining))

    def _ended(self) -> bool:
        record = self.store.get_session(self.session_id)
        return record is None or record.ended_at is not None

    def _check_owner(self) -> None:
        now = time.monotonic()
        if now - self._last_liveness_check < LIVENESS_INTERVAL_S:
            return
        self._last_liveness_check = now
        record = self.store.get_session(self.session_id)
        if record is None or self.store.status_of(record) != ACTIVE:
            self._owner_gone = True  # read what it committed before it stopped, then finish


def follow(
    store: EventStore,
    session_id: str,
    after_seq: int = 0,
    *,
    stop: threading.Event | None = None,
    poll_interval: float = DEFAULT_POLL_INTERVAL_S,
) -> Iterator[list[Event]]:
    """Yield batches of new events until the session ends, is interrupted, or `stop` is set."""
    follower = Follower(store, session_id, after_seq)
    while not follower.finished and not (stop is not None and stop.is_set()):
        events = follower.wait(1.0, poll_interval=poll_interval, stop=stop)
        if events:
            yield events
