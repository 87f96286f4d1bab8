"""The bus: bounded by bytes, emitters wait for the consumer only when that much is queued."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from contextree.progress.bus import (
    ASSUMED_PAYLOAD_BYTES,
    ITEM_OVERHEAD_BYTES,
    EventBus,
    FlushRequest,
    item_bytes,
)

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
    assert item_bytes(object()) == ITEM_OVERHEAD_BYTES  # type: ignore[arg-type]


def test_the_item_limit_follows_the_size_of_what_is_drained() -> None:
    bus = EventBus(capacity_bytes=64 << 20)
    assert bus.item_limit == (64 << 20) // (ITEM_OVERHEAD_BYTES + ASSUMED_PAYLOAD_BYTES)
    bus.put(FlushRequest())
    bus.drain(bus.get(), 10)
    assert bus.item_limit == (64 << 20) // (ITEM_OVERHEAD_BYTES + ASSUMED_PAYLOAD_BYTES)
    big = ("session", "queue_stats", b"x" * (1 << 20), 0.0)
    bus.put(big)
    bus.put(FlushRequest())
    bus.drain(bus.get(), 10)
    assert bus.item_limit == (64 << 20) // (ITEM_OVERHEAD_BYTES + (1 << 20)) == 63


def test_an_emitter_waits_once_the_capacity_is_queued_and_goes_on_after_a_drain() -> None:
    bus = EventBus(capacity_bytes=3 * SIZE)
    bus.put(ITEM)
    bus.drain(bus.get(), 10)
    assert bus.item_limit == 3
    for _ in range(3):
        bus.put(ITEM)
    put_done = threading.Event()
    waiting = threading.Event()

    def emit() -> None:
        waiting.set()
        bus.put(ITEM)
        put_done.set()

    emitter = threading.Thread(target=emit, daemon=True)
    emitter.start()
    assert waiting.wait(30)
    wait_until(lambda: emitter.is_alive() and bus.pending() == 3)
    assert not put_done.is_set()
    drained = bus.drain(bus.get(), 10)
    assert len(drained) == 3
    assert put_done.wait(30)
    emitter.join(30)
    assert bus.pending() == 1


def test_the_consumer_thread_never_waits_for_itself() -> None:
    bus = EventBus(capacity_bytes=SIZE)
    bus.put(ITEM)
    first = bus.drain(bus.get(), 10)[0]  # this thread is now the consumer; the limit is 1
    bus.put(first)
    bus.put(first)  # over the limit, but a subscriber emitting here must not deadlock
    assert bus.pending() == 2
