"""The queue's building blocks: frame group commit, `queue_stats` coalescing, priority slots
and per-provider limits.

`FrameCommitter` writes frames in one LMDB transaction per batch in a worker thread, batching
whatever finished while the previous commit ran (so a burst costs few fsyncs) and resolving
each caller only once its frame is durable. `StatsReporter` turns every queue transition into
at most one `queue_stats` per `min_interval_s`, and repeats it at least every `heartbeat_s`
while the queue is busy. `PrioritySlots` is a semaphore that serves the lowest priority
number first; `ProviderLimits` holds one provider's concurrency cap and request spacing.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable

from contextree.engine.generation.frames import Frame, FrameStore
from contextree.engine.providers.base import ProviderConfig

STATS_MIN_INTERVAL_S = 0.1
STATS_HEARTBEAT_S = 1.0


class FrameCommitter:
    """Group commit of frames; `commit(frame)` returns once the frame is stored."""

    def __init__(self, frames: FrameStore | None) -> None:
        self.frames = frames
        self._pending: list[tuple[Frame, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None
        self.commits = 0

    async def commit(self, frame: Frame) -> None:
        if self.frames is None:
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((frame, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write_all())
        await done

    async def _write_all(self) -> None:
        assert self.frames is not None
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                await asyncio.to_thread(self.frames.put_many, [frame for frame, _ in batch])
            except Exception as error:  # the store failed: every waiter hears why
                for _, done in batch:
                    if not done.done():
                        done.set_exception(error)
                continue
            self.commits += 1
            for _, done in batch:
                if not done.done():
                    done.set_result(None)


class StatsReporter:
    """Coalesces `report()` calls: on transitions at most every `min_interval_s`, and at least
    every `heartbeat_s` while `busy()`. Runs on the event loop (timers via `call_later`)."""

    def __init__(
        self,
        report: Callable[[], None],
        busy: Callable[[], bool],
        *,
        min_interval_s: float = STATS_MIN_INTERVAL_S,
        heartbeat_s: float = STATS_HEARTBEAT_S,
    ) -> None:
        self._report = report
        self._busy = busy
        self.min_interval_s = min_interval_s
        self.heartbeat_s = heartbeat_s
        self._last = -float("inf")
        self._dirty = False
        self._flush_timer: asyncio.TimerHandle | None = None
        self._heartbeat: asyncio.TimerHandle | None = None
        self._closed = False

    def changed(self) -> None:
        """The statistics changed; report now or soon."""
        if self._closed:
            return
        self._dirty = True
        wait = self._last + self.min_interval_s - time.monotonic()
        if wait <= 0:
            self._emit()
        elif self._flush_timer is None:
            loop = asyncio.get_running_loop()
            self._flush_timer = loop.call_later(wait, self._flush)

    def flush(self) -> None:
        """Report now if anything is unreported; cancel the timers."""
        if self._dirty and not self._closed:
            self._emit()
        self._cancel_timers()

    def close(self) -> None:
        """Report what is still unreported and stop the timers."""
        if self._dirty and not self._closed:
            self._emit()
        self._closed = True
        self._cancel_timers()

    def _flush(self) -> None:
        self._flush_timer = None
        if self._dirty and not self._closed:
            self._emit()

    def _beat(self) -> None:
        self._heartbeat = None
        if not self._closed and self._busy():
            self._emit()

    def _emit(self) -> None:
        self._dirty = False
        self._last = time.monotonic()
        self._report()
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            self._heartbeat = None
        if self._busy():
            loop = asyncio.get_running_loop()
            self._heartbeat = loop.call_later(self.heartbeat_s, self._beat)

    def _cancel_timers(self) -> None:
        for timer in (self._flush_timer, self._heartbeat):
            if timer is not None:
                timer.cancel()
        self._flush_timer = self._heartbeat = None


class PrioritySlots:
    """A semaphore that wakes the waiter with the lowest `(priority, arrival)` first."""

    def __init__(self, capacity: int) -> None:
        self._free = capacity
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._arrival = itertools.count()

    async def acquire(self, priority: int) -> None:
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._arrival), waiter))
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # granted just as we were cancelled: pass it on
            raise

    def release(self) -> None:
        while self._waiters:
            _, _, waiter = heapq.heappop(self._waiters)
            if not waiter.done():
                waiter.set_result(None)
                return
        self._free += 1


class ProviderLimits:
    """One provider's concurrency cap and request spacing."""

    def __init__(self, config: ProviderConfig) -> None:
        self.semaphore = asyncio.Semaphore(config.max_concurrency)
        rpm = config.requests_per_minute
        self.interval_s = 60.0 / rpm if rpm else 0.0
        self.next_start = 0.0

    def reserve_start(self, now: float) -> float:
        """Seconds to wait before the next request may start (0 without a rate limit)."""
        if not self.interval_s:
            return 0.0
        start = max(now, self.next_start)
        self.next_start = start + self.interval_s
        return start - now
