"""The event bus: the in-process channel between emitters and the ingestor.

`emit` puts one tuple on a lock-free `SimpleQueue` and returns; it never touches the disk.
The bus is bounded: if the ingestor falls `capacity` items behind, emitters wait for it to
catch up (backpressure) instead of growing memory without limit. After each commit the
ingestor fans the committed events out to in-process subscribers (such as a progress display).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from typing import Any

from contextree.progress.event import Event

log = logging.getLogger(__name__)

DEFAULT_CAPACITY = 1_000_000

Subscriber = Callable[[Sequence[Event]], None]


class EventBus:
    """A bounded multi-producer, single-consumer queue with post-commit fan-out."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = capacity
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._drained = threading.Condition()
        self._subscribers: list[Subscriber] = []

    def put(self, item: Any) -> None:
        """Enqueue one item; waits only if the ingestor is `capacity` items behind."""
        if self._queue.qsize() >= self.capacity:
            with self._drained:
                self._drained.wait_for(lambda: self._queue.qsize() < self.capacity)
        self._queue.put(item)

    def get(self, timeout: float | None = None) -> Any:
        """Block until an item is available (consumer side)."""
        return self._queue.get(timeout=timeout)

    def drain(self, first: Any, limit: int) -> list[Any]:
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
