"""The event bus: the in-process channel between emitters and the ingestor.

`emit` puts one `EmittedEvent` tuple on a lock-free `SimpleQueue` and returns; it never
touches the disk. Session starts and ends, flush requests and the stop signal travel the same
queue, so the ingestor sees everything in emission order (`BusItem` is their union).
The bus is bounded: if the ingestor falls `capacity` items behind, emitters wait for it to
catch up (backpressure) instead of growing memory without limit. After each commit the
ingestor fans the committed events out to in-process subscribers (such as a progress display).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeAlias

from contextree.progress.event import Event
from contextree.progress.session import SessionRecord

log = logging.getLogger(__name__)

DEFAULT_CAPACITY = 1_000_000

Subscriber = Callable[[Sequence[Event]], None]

EmittedEvent: TypeAlias = tuple[str, str, bytes, float]
"""One `emit`: session id, event type, encoded payload, wall-clock time (a plain tuple: it
is built on every emit, so it must cost as little as possible)."""


@dataclass
class StartSession:
    """A new session: its record and `session_started` (seq 1) commit in the same batch."""

    record: SessionRecord
    payload: bytes
    ts: float


@dataclass
class EndSession:
    """The end of a session: `session_ended` and the final record commit together."""

    session_id: str
    status: str
    error: str | None
    payload: bytes
    ts: float


@dataclass
class FlushRequest:
    """Set once everything queued before it is durable."""

    done: threading.Event = field(default_factory=threading.Event)


class StopIngestor:
    """The last item: the ingestor commits what it holds and stops."""


BusItem: TypeAlias = EmittedEvent | StartSession | EndSession | FlushRequest | StopIngestor


class EventBus:
    """A bounded multi-producer, single-consumer queue with post-commit fan-out."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = capacity
        self._queue: queue.SimpleQueue[BusItem] = queue.SimpleQueue()
        self._drained = threading.Condition()
        self._subscribers: list[Subscriber] = []

    def put(self, item: BusItem) -> None:
        """Enqueue one item; waits only if the ingestor is `capacity` items behind."""
        if self._queue.qsize() >= self.capacity:
            with self._drained:
                self._drained.wait_for(lambda: self._queue.qsize() < self.capacity)
        self._queue.put(item)

    def get(self, timeout: float | None = None) -> BusItem:
        """Block until an item is available (consumer side)."""
        return self._queue.get(timeout=timeout)

    def drain(self, first: BusItem, limit: int) -> list[BusItem]:
        """Return `first` plus whatever else is queued, up to `limit` items (consumer side)."""
        items = [first]
        get = self._queue.get_nowait
        try:
            while len(items) < limit:
                items.append(get())
        except queue.Empty:
            pass
        with self._drained:
            self._drained.notify_all()
        return items

    def pending(self) -> int:
        """How many items wait for the ingestor."""
        return self._queue.qsize()

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Call `subscriber` with each committed batch; returns a function that unsubscribes.

        Subscribers run on the ingestor thread and must return quickly (hand work off).
        """
        self._subscribers.append(subscriber)
        return lambda: self._subscribers.remove(subscriber)

    def has_subscribers(self) -> bool:
        return bool(self._subscribers)

    def publish(self, events: Sequence[Event]) -> None:
        """Fan committed events out to subscribers; a failing subscriber is logged, not fatal."""
        for subscriber in list(self._subscribers):
            try:
                subscriber(events)
            except Exception:
                log.exception("event subscriber failed")
