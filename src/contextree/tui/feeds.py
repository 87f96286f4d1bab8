"""Feeds: worker threads that read one session from the store and hand it to the UI.

A feed owns a thread and a bounded hand-off buffer. The thread reads LMDB (the UI's event
loop never does), appends what it read to the buffer and calls `wake()` once — only when the
buffer goes from empty to non-empty — so a burst of commits costs the UI one message, and the
UI `take()`s everything pending at its next frame. When the buffer is full the thread waits
for the UI (the events are durable in the store, so waiting loses nothing).

- `LiveFeed` loads the session's stored events into a fresh state (the replay the seed
  guarantees equal to a live run), then follows new commits with `Follower.wait`, from this
  process or any other, until the session ends or its owner dies (`interrupted`).
- `ReplayFeed` re-feeds a finished session's events at a chosen speed relative to their
  original timing (gaps capped), with pause, single-step and seek (by a fraction of the
  session, to its start or end; a seek backwards hands over a fresh state and replays the
  events up to the new position at once). It stays ready for a seek after the last event.

No Textual here: the UI passes `wake`, which posts a message.
"""

from __future__ import annotations

import bisect
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from contextree.errors import ContextreeError, SessionNotFoundError
from contextree.progress import Event, EventStore, SessionRecord
from contextree.progress.follow import DEFAULT_POLL_INTERVAL_S, Follower
from contextree.progress.reducer import replay
from contextree.progress.session import ACTIVE
from contextree.progress.state import SessionState
from contextree.tui.format import ts_epoch
from contextree.tui.tuning import building_state

log = logging.getLogger(__name__)

MAX_PENDING_EVENTS = 50_000
REPLAY_MAX_GAP_S = 1.0
"""In a replay no pause between two events lasts longer than this (wall-clock seconds)."""
REPLAY_MAX_BATCH = 5_000


@dataclass
class FeedBatch:
    """What a feed handed over since the last `take()`."""

    state: SessionState | None = None
    """A freshly loaded state that replaces the UI's (then `events` apply on top of it)."""
    events: list[Event] = field(default_factory=list)
    record: SessionRecord | None = None
    """The session record with its effective status, when it was (re)read."""
    live: bool = False
    """The events were committed while we followed (their freshness is meaningful)."""
    finished: bool = False
    error: str | None = None


class Feed:
    """A thread reading one session, and the bounded buffer it hands events over in."""

    def __init__(self, store: EventStore, session_id: str, *, wake: Callable[[], object],
                 max_pending: int = MAX_PENDING_EVENTS) -> None:
        self.store = store
        self.session_id = session_id
        self._wake = wake
        self._max_pending = max_pending
        self._cond = threading.Condition()
        self._pending = FeedBatch()
        self._signalled = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run_guarded, daemon=True,
                                        name=f"{type(self).__name__}-{session_id[:10]}")

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the thread and wait for it (it never holds a transaction for long)."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def take(self) -> FeedBatch:
        """Everything handed over since the last call (called by the UI)."""
        with self._cond:
            batch, self._pending = self._pending, FeedBatch()
            self._signalled = False
            self._cond.notify_all()
        return batch

    def _hand_over(self, *, state: SessionState | None = None, events: list[Event] | None = None,
                   record: SessionRecord | None = None, live: bool = False,
                   finished: bool = False, error: str | None = None) -> None:
        with self._cond:
            while (events and len(self._pending.events) >= self._max_pending
                   and not self._stop.is_set()):
                self._cond.wait(0.1)
            pending = self._pending
            if state is not None:
                pending.state, pending.events = state, []
            if events:
                pending.events.extend(events)
                pending.live = live
            pending.record = record or pending.record
            pending.finished = pending.finished or finished
            pending.error = error or pending.error
            wake = not self._signalled
            self._signalled = True
        if wake and not self._stop.is_set():
            self._wake()

    def _run_guarded(self) -> None:
        try:
            self._run()
        except ContextreeError as exc:
            self._hand_over(error=str(exc), finished=True)
        except Exception as exc:  # a bug or a damaged store: say so in the UI, keep the app
            log.exception("reading session %s failed", self.session_id)
            self._hand_over(error=f"reading session {self.session_id} failed: {exc}",
                            finished=True)

    def _run(self) -> None:
        raise NotImplementedError

    def _record(self) -> SessionRecord:
        record = self.store.get_session(self.session_id)
        if record is None:
            raise SessionNotFoundError(
                f"no session {self.session_id} — it may have been deleted or pruned")
        record.status = self.store.status_of(record)
        return record


class LiveFeed(Feed):
    """Loads a session, then follows it live until it ends (or its owner dies)."""

    def __init__(self, store: EventStore, session_id: str, *, wake: Callable[[], object],
                 max_pending: int = MAX_PENDING_EVENTS,
                 poll_interval: float = DEFAULT_POLL_INTERVAL_S) -> None:
        super().__init__(store, session_id, wake=wake, max_pending=max_pending)
        self.poll_interval = poll_interval

    def _run(self) -> None:
        record = self._record()
        with building_state():
            state = replay(self.store.iter_events(self.session_id), record)
        self._hand_over(state=state, record=record, finished=record.status != ACTIVE)
        if record.status != ACTIVE:
            return
        follower = Follower(self.store, self.session_id, after_seq=state.last_seq)
        while not self._stop.is_set() and not follower.finished:
            events = follower.wait(0.5, poll_interval=self.poll_interval, stop=self._stop)
            if events:
                self._hand_over(events=events, live=True)
        if follower.finished:
            self._hand_over(record=self._record(), finished=True)


class ReplayFeed(Feed):
    """Re-feeds a stored session at `speed` × its original pace, with pause and step."""

    def __init__(self, store: EventStore, session_id: str, *, wake: Callable[[], object],
                 speed: float = 1.0, paused: bool = False,
                 max_gap_s: float = REPLAY_MAX_GAP_S) -> None:
        super().__init__(store, session_id, wake=wake)
        self._speed = speed
        self._paused = paused
        self._max_gap_s = max_gap_s
        self._steps = 0
        self._timeline: list[float] = []  # each event's replay time (gaps capped), seconds
        self._real: list[float] = []  # each event's original epoch time
        self._anchor_replay = 0.0
        self._anchor_wall = time.monotonic()
        self._seek_to: int | None = None
        self._events: list[Event] = []
        self.position = 0
        """How many events have been handed over (the next one's index)."""
        self.total = 0

    # -- controls (called from the UI thread) ---------------------------------------------

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def paused(self) -> bool:
        return self._paused

    def set_speed(self, speed: float) -> None:
        with self._cond:
            self._reanchor()
            self._speed = max(0.01, speed)
            self._cond.notify_all()

    def toggle_pause(self) -> None:
        with self._cond:
            self._reanchor()
            self._paused = not self._paused
            self._cond.notify_all()

    def step(self, count: int = 1) -> None:
        """Pause, and deliver exactly `count` more events."""
        with self._cond:
            self._reanchor()
            self._paused = True
            self._steps += max(0, count)
            self._cond.notify_all()

    def seek(self, position: int) -> None:
        """Jump to just after the `position`-th event (0: the start; `total`: the end)."""
        with self._cond:
            self._seek_to = max(0, min(self.total, position))
            self._steps = 0
            self._cond.notify_all()

    def seek_by(self, fraction: float) -> None:
        """Jump by `fraction` of the session's events (±0.1: ten per cent either way)."""
        with self._cond:
            base = self._seek_to if self._seek_to is not None else self.position
        self.seek(base + round(fraction * self.total))

    def restart(self) -> None:
        """Play again from the first event."""
        with self._cond:
            self._paused = False
        self.seek(0)

    @property
    def last_event(self) -> Event | None:
        """The last event handed over (what the view shows it has applied)."""
        with self._cond:
            return self._events[self.position - 1] if 0 < self.position <= len(self._events) \
                else None

    def now(self) -> float:
        """The replayed clock: the original time the replay has reached (epoch seconds)."""
        with self._cond:
            if not self._real:
                return time.time()
            replay_s = self._replay_clock()
            index = max(0, bisect.bisect_right(self._timeline, replay_s) - 1)
            limit = self._real[index + 1] if index + 1 < len(self._real) else self._real[index]
            return min(self._real[index] + (replay_s - self._timeline[index]), limit)

    # -- the thread -----------------------------------------------------------------------

    def _replay_clock(self) -> float:
        if self._paused:
            return self._anchor_replay
        return self._anchor_replay + (time.monotonic() - self._anchor_wall) * self._speed

    def _reanchor(self) -> None:
        self._anchor_replay = self._replay_clock()
        self._anchor_wall = time.monotonic()

    def _run(self) -> None:
        record = self._record()
        with building_state():
            events = self.store.read_events(self.session_id)
            self._build_timeline(events)
        with self._cond:
            self._events = events
            self.total = len(events)
        self._hand_over(state=SessionState())
        ended = False
        while not self._stop.is_set():
            if self._apply_seek(events):
                ended = False
            elif self.position < self.total:
                batch = self._next_batch(events)
                if batch:
                    self._hand_over(events=batch)
            elif not ended:
                self._hand_over(record=record, finished=True)
                ended = True
            else:
                with self._cond:
                    if self._seek_to is None and not self._stop.is_set():
                        self._cond.wait(0.25)

    def _apply_seek(self, events: list[Event]) -> bool:
        """Move to a requested position: forwards, hand the skipped events over; backwards,
        a fresh state and the events up to the position. False if none was requested."""
        with self._cond:
            target, self._seek_to = self._seek_to, None
            if target is None:
                return False
            backwards = target < self.position
            batch = events[:target] if backwards else events[self.position:target]
            self.position = target
            self._anchor_replay = self._timeline[target - 1] if target else 0.0
            self._anchor_wall = time.monotonic()
        if backwards:
            self._hand_over(state=SessionState(), events=batch)
        elif batch:
            self._hand_over(events=batch)
        return True

    def _build_timeline(self, events: list[Event]) -> None:
        timeline: list[float] = []
        real: list[float] = []
        previous: float | None = None
        for event in events:
            epoch = ts_epoch(event.ts)
            epoch = epoch if epoch is not None else (previous or 0.0)
            gap = 0.0 if previous is None else max(0.0, epoch - previous)
            timeline.append((timeline[-1] if timeline else 0.0)
                            + min(gap, self._max_gap_s * self._speed))
            real.append(epoch)
            previous = epoch
        with self._cond:
            self._timeline, self._real = timeline, real
            self._anchor_replay, self._anchor_wall = 0.0, time.monotonic()

    def _next_batch(self, events: list[Event]) -> list[Event]:
        with self._cond:
            if self._steps:
                count = min(self._steps, self.total - self.position)
                self._steps -= count
                batch = events[self.position:self.position + count]
                self.position += count
                self._anchor_replay = self._timeline[self.position - 1]
                return batch
            if self._paused:
                self._cond.wait(0.25)
                return []
            clock = self._replay_clock()
            end = bisect.bisect_right(self._timeline, clock, lo=self.position)
            end = min(end, self.position + REPLAY_MAX_BATCH)
            if end == self.position:
                wait = (self._timeline[self.position] - clock) / self._speed
                self._cond.wait(min(max(wait, 0.0), 0.25))
                return []
            batch = events[self.position:end]
            self.position = end
            return batch
