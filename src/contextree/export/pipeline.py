"""Reading sessions from the store and handing their spans to a sink, in bounded chunks.

`session_spans` streams one session's spans (events read a chunk at a time, so memory stays
bounded by the chunk and the spans still open); `export_sessions` sends them in batches to any
`SpanSink` — the OTLP exporter, or a list in tests and benchmarks.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from contextree.export.spans import UNFINISHED_ATTRIBUTE, SpanBuilder, SpanRecord
from contextree.progress.event import Event
from contextree.progress.store import EventStore

READ_CHUNK = 5000
SEND_BATCH = 512


class SpanSink(Protocol):
    """Where spans go; `send` returns False when the receiver did not take them."""

    def send(self, spans: Sequence[SpanRecord]) -> bool: ...


class EventSource(Protocol):
    """What reading a session needs from the store (an `EventStore` has it)."""

    def iter_events(self, session_id: str, after_seq: int = 0) -> Iterator[Event]: ...


@dataclass
class ExportCounts:
    """What one export sent."""

    sessions: int = 0
    events: int = 0
    spans: int = 0
    failed_batches: int = 0


def session_spans(source: EventSource, session_id: str, status: str,
                  chunk: int = READ_CHUNK) -> Iterator[tuple[int, list[SpanRecord]]]:
    """Yield `(events read, spans closed)` per chunk; an unended session's open spans are
    closed at its last event, the root marked with `status` (`active` or `interrupted`)."""
    builder = SpanBuilder(session_id)
    read, closed = 0, []
    for event in source.iter_events(session_id):
        closed += builder.feed(event)
        read += 1
        if read == chunk:
            yield read, closed
            read, closed = 0, []
    if read:
        yield read, closed
    if not builder.ended:
        yield 0, close_unfinished(builder, status)


def close_unfinished(builder: SpanBuilder, status: str) -> list[SpanRecord]:
    """Close a session's open spans at its last event; the root says the session's status."""
    spans = builder.close_open()
    for span in spans:
        if span.parent_span_id is None:
            span.attributes["ctree.session.status"] = status
            span.attributes[UNFINISHED_ATTRIBUTE] = True
    return spans


def export_sessions(store: EventStore, session_ids: Sequence[str], sink: SpanSink,
                    batch: int = SEND_BATCH) -> ExportCounts:
    """Send the spans of each session to `sink`, `batch` spans per call; stop at the first
    batch the sink refuses (a dead endpoint would refuse the rest too, each after a timeout)."""
    counts = ExportCounts()
    pending: list[SpanRecord] = []
    for session_id in session_ids:
        record = store.get_session(session_id)
        status = store.status_of(record) if record is not None else "interrupted"
        for read, closed in session_spans(store, session_id, status):
            counts.events += read
            pending += closed
            while len(pending) >= batch:
                if not _send(sink, pending[:batch], counts):
                    return counts
                del pending[:batch]
        counts.sessions += 1
    if pending:
        _send(sink, pending, counts)
    return counts


def _send(sink: SpanSink, spans: Sequence[SpanRecord], counts: ExportCounts) -> bool:
    if sink.send(spans):
        counts.spans += len(spans)
        return True
    counts.failed_batches += 1
    return False
