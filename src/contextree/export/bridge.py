"""The live bridge: tail the store, turn events into spans as they close, ship them.

Every session that starts after the bridge first ran is followed with a `Follower` (a cursor
seek per commit, so work grows with new events, not with a session's length) and a
`SpanBuilder`. Closed spans wait in a bounded buffer; a dead endpoint is retried with backoff
and said once when it goes down and once when it comes back. A small checkpoint file names
the sessions fully shipped, so a restart resumes; re-sending is idempotent, so a lost
checkpoint only costs duplicate sends.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from contextree.export.pipeline import SEND_BATCH, SpanSink, close_unfinished
from contextree.export.spans import SpanBuilder, SpanRecord
from contextree.progress.event import Event, now_ts, parse_ts
from contextree.progress.follow import Follower
from contextree.progress.store import EventStore

MAX_BUFFERED_SPANS = 50_000
DISCOVERY_INTERVAL_S = 0.5
IDLE_WAIT_S = 0.02
BACKOFF_START_S, BACKOFF_MAX_S = 0.5, 30.0

Say = Callable[[str], None]


@dataclass
class Checkpoint:
    """Since when sessions are followed, and which of them are fully shipped."""

    path: Path
    since: str = field(default_factory=now_ts)
    done: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, path: Path) -> Checkpoint:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(path, str(data["since"]), set(data["done"]))
        except (OSError, ValueError, KeyError, TypeError):
            return cls(path)  # none yet, or damaged: start from now (re-sending is safe)

    def save(self) -> None:
        partial = self.path.with_name(self.path.name + ".partial")
        partial.write_text(json.dumps({"since": self.since, "done": sorted(self.done)}),
                           encoding="utf-8")
        os.replace(partial, self.path)


@dataclass
class _Tail:
    follower: Follower
    builder: SpanBuilder


@dataclass
class BridgeCounts:
    events: int = 0
    spans_sent: int = 0
    spans_dropped: int = 0


class Bridge:
    """Follows the store's sessions and ships their spans to `sink` until `stop` is set."""

    def __init__(self, store: EventStore, sink: SpanSink, checkpoint: Checkpoint, say: Say,
                 *, endpoint: str, max_buffered: int = MAX_BUFFERED_SPANS,
                 observe: Callable[[list[Event]], None] | None = None) -> None:
        self.store, self.sink, self.checkpoint, self.say = store, sink, checkpoint, say
        self.endpoint = endpoint
        self.counts = BridgeCounts()
        self._tails: dict[str, _Tail] = {}
        self._buffer: deque[SpanRecord] = deque()
        self._max_buffered = max_buffered
        self._finished: set[str] = set()
        self._down = False
        self._backoff_s = BACKOFF_START_S
        self._retry_at = 0.0
        self._next_discovery = 0.0
        self._observe = observe
        self._since_s = parse_ts(checkpoint.since)

    def run(self, stop: threading.Event) -> BridgeCounts:
        while not stop.is_set():
            busy = self.step()
            if not busy:
                stop.wait(IDLE_WAIT_S)
        self._flush(force=True)
        self.checkpoint.save()
        return self.counts

    def step(self) -> bool:
        """One round: discover sessions, read new events, ship; True if anything happened."""
        now = time.monotonic()
        if now >= self._next_discovery:
            self._discover()
            self._next_discovery = now + DISCOVERY_INTERVAL_S
        read = sum(self._read(session_id) for session_id in list(self._tails))
        self._flush()
        return read > 0

    def _discover(self) -> None:
        records = self.store.list_sessions()
        present = {record.session_id for record in records}
        self.checkpoint.done &= present  # pruned sessions leave the checkpoint
        self._finished &= present
        for record in records:
            session_id = record.session_id
            if session_id in self._tails or session_id in self.checkpoint.done:
                continue
            if session_id in self._finished:
                continue
            try:
                if parse_ts(record.started_at) < self._since_s:
                    continue
            except ValueError:
                continue
            self._tails[session_id] = _Tail(Follower(self.store, session_id),
                                            SpanBuilder(session_id))

    def _read(self, session_id: str) -> int:
        tail = self._tails[session_id]
        events = tail.follower.poll()
        for event in events:
            self._buffer.extend(tail.builder.feed(event))
        if events and self._observe is not None:
            self._observe(events)
        self.counts.events += len(events)
        if tail.follower.finished:
            if not tail.builder.ended:
                record = self.store.get_session(session_id)
                status = self.store.status_of(record) if record is not None else "interrupted"
                self._buffer.extend(close_unfinished(tail.builder, status))
            del self._tails[session_id]
            self._finished.add(session_id)
        self._bound_buffer()
        return len(events)

    def _bound_buffer(self) -> None:
        while len(self._buffer) > self._max_buffered:
            self._buffer.popleft()
            self.counts.spans_dropped += 1

    def _flush(self, force: bool = False) -> None:
        if not force and self._down and time.monotonic() < self._retry_at:
            return
        while self._buffer:
            batch = [self._buffer[i] for i in range(min(SEND_BATCH, len(self._buffer)))]
            if not self.sink.send(batch):
                self._went_down()
                return
            for _ in batch:
                self._buffer.popleft()
            self.counts.spans_sent += len(batch)
            self._came_back()
        self._mark_done()

    def _went_down(self) -> None:
        if not self._down:
            self.say(f"{self.endpoint} is not taking spans — keeping up to "
                     f"{self._max_buffered:,} and retrying")
            self._down = True
        else:
            self._backoff_s = min(self._backoff_s * 2, BACKOFF_MAX_S)
        self._retry_at = time.monotonic() + self._backoff_s

    def _came_back(self) -> None:
        if self._down:
            self.say(f"{self.endpoint} is back — shipping again")
            self._down, self._backoff_s = False, BACKOFF_START_S

    def _mark_done(self) -> None:
        if self._finished - self.checkpoint.done:
            self.checkpoint.done |= self._finished
            self.checkpoint.save()
