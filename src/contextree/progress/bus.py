"""The event bus: the in-process channel between emitters and the ingestor.

`emit` puts one `EmittedEvent` tuple on a lock-free `SimpleQueue` and returns; it never
touches the disk. Session starts and ends, flush requests and the stop signal travel the same
queue, so the ingestor sees everything in emission order (`BusItem` is their union).
The bus is bounded by bytes: each item counts its encoded payload plus a fixed overhead, and
once about `capacity_bytes` (32 MiB by default) wait for the ingestor, emitters wait until it
catches up (back-pressure) instead of growing memory without limit; in the normal case that
costs emit one `qsize()` call, as a count bound would. After each commit the ingestor fans
the committed events out to in-process subscribers (such as a progress display).
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

DEFAULT_CAPACITY_BYTES = 32 << 20
"""How many bytes of queued items make emitters wait for the ingestor (32 MiB: with the
ingestor's batch and LMDB's pages, a writer of 1M events peaks near 85 MB of RSS; 64 MiB
would pass 100 MB)."""
ITEM_OVERHEAD_BYTES = 160
"""What one queued item costs beside its payload: the tuple, its float and references."""
ASSUMED_PAYLOAD_BYTES = 512
"""The payload size assumed until the first events are drained (a cautious guess)."""

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


def item_bytes(item: BusItem) -> int:
    """The bytes one bus item is counted for: an event's payload plus the overhead."""
    if type(item) is tuple:
        return ITEM_OVERHEAD_BYTES + len(item[2])
    return ITEM_OVERHEAD_BYTES


class EventBus:
    """A multi-producer, single-consumer queue bounded by bytes, with post-commit fan-out.

    Emitters pay only a `qsize()` check: the consumer turns `capacity_bytes` into an item
    limit after each drain, from the mean size of the events it drained (a cautious
    `ASSUMED_PAYLOAD_BYTES` until then), so the bound follows the payloads actually flowing.
    """

    def __init__(self, capacity_bytes: int = DEFAULT_CAPACITY_BYTES) -> None:
        self.capacity_bytes = capacity_bytes
        self.item_limit = max(1, capacity_bytes // (ITEM_OVERHEAD_BYTES + ASSUMED_PAYLOAD_BYTES))
        self._queue: queue.SimpleQueue[BusItem] = queue.SimpleQueue()
        self._drained = threading.Condition()
        self._consumer: int | None = None
        self._subscribers: list[Subscriber] = []

    def put(self, item: BusItem) -> None:
        """Enqueue one item; waits only while the ingestor is `item_limit` items behind
        (never on the consumer's own thread)."""
        if self._queue.qsize() >= self.item_limit:
            self._wait_for_space()
        self._queue.put(item)

    def _wait_for_space(self) -> None:
        if threading.get_ident() == self._consumer:
            return  # a subscriber emitting on the ingestor's thread must not wait for itself
        with self._drained:
            self._drained.wait_for(lambda: self._queue.qsize() < self.item_limit)

    def get(self, timeout: float | None = None) -> BusItem:
        """Block until an item is available (consumer side)."""
        self._consumer = threading.get_ident()
        return self._queue.get(timeout=timeout)

    def drain(self, first: BusItem, limit: int) -> list[BusItem]:
        """Return `first` plus whatever else is queued, up to `limit` items (consumer side);
        the item limit follows their mean size, and waiting emitters are woken."""
        items = [first]
        get = self._queue.get_nowait
        try:
            while len(items) < limit:
                items.append(get())
        except queue.Empty:
            pass
        sizes = [len(item[2]) for item in items if type(item) is tuple]
        with self._drained:
            if sizes:  # session starts, ends and flushes say nothing about event sizes
                mean_bytes = ITEM_OVERHEAD_BYTES + sum(sizes) / len(sizes)
                self.item_limit = max(1, int(self.capacity_bytes / mean_bytes))
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
