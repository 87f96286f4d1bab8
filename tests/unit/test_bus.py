"""The bus: bounded by bytes, emitters wait for the consumer only when that much is queued."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from contextree.progress.bus import ITEM_OVERHEAD_BYTES, EventBus, item_bytes

PAYLOAD = b'{"n":1}' * 10
ITEM = ("session", "queue_stats", PAYLOAD, 0.0)
SIZE = ITEM_OVERHEAD_BYTES + len(PAYLOAD)


def wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Wait on state (polled), failing after a generous `timeout`."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the state never came"
        time.sleep(0.001)


def test_items_count_their_payload_and_an_overhead() -> None:
    assert item_bytes(ITEM) == SIZE
    assert item_bytes(object()) == ITEM_OVERHEAD_BYTES


def test_an_emitter_waits_once_the_capacity_is_queued_and_goes_on_after_a_drain() -> None:
    bus = EventBus(capacity_bytes=3 * SIZE)
    for _ in range(3):
        bus.put(ITEM)
    assert bus.queued_bytes() == 3 * SIZE
    put_done = threading.Event()
    emitter = threading.Thread(target=lambda: (bus.put(ITEM), put_done.set()), daemon=True)
    emitter.start()
    wait_until(lambda: bus._waiting == 1)
    assert not put_done.is_set() and bus.pending() == 3
    drained = bus.drain(bus.get(), 10)
    assert len(drained) == 3
    assert put_done.wait(30)
    emitter.join(30)
    assert bus.pending() == 1 and bus.queued_bytes() == SIZE


def test_an_item_larger_than_the_capacity_passes_when_the_bus_is_empty() -> None:
    bus = EventBus(capacity_bytes=SIZE // 2)
    bus.put(ITEM)
    assert bus.pending() == 1


def test_the_consumer_thread_never_waits_for_itself() -> None:
    bus = EventBus(capacity_bytes=SIZE)
    bus.put(ITEM)
    first = bus.get()  # this thread is now the consumer; the item counts until drained
    bus.put(ITEM)  # over capacity, but a subscriber emitting here must not deadlock
    bus.put(ITEM)
    assert len(bus.drain(first, 10)) == 3 and bus.queued_bytes() == 0
