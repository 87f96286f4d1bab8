"""The event filter: each criterion alone, together, and the type check."""

from __future__ import annotations

from typing import Any

import pytest

from contextree.errors import UsageError
from contextree.progress.event import Event, encode_event
from contextree.progress.event_filter import EventFilter, check_event_types, is_error


def event(event_type: str, **data: Any) -> Event:
    return Event(ts="2026-01-01T00:00:00.000Z", session="S", seq=1, type=event_type, data=data)


def test_an_empty_filter_keeps_everything_even_undecodable_values() -> None:
    keep = EventFilter()
    assert keep.empty and keep.matches(event("queue_stats")) and keep.matches_raw(b"{oops")


def test_types_path_and_level_each_narrow() -> None:
    done = event("node_generation_completed", path="src/a.py", level_index=0)
    other = event("node_generation_started", path="docs/b.md", level_index=1)
    assert EventFilter(types=frozenset({"node_generation_completed"})).matches(done)
    assert not EventFilter(types=frozenset({"node_generation_completed"})).matches(other)
    assert EventFilter(path_glob="src/*").matches(done)
    assert not EventFilter(path_glob="src/*").matches(other)
    assert not EventFilter(path_glob="*").matches(event("queue_stats")), "no path, no match"
    assert EventFilter(level_index=1).matches(other)
    assert not EventFilter(level_index=1).matches(done)
    assert not EventFilter(level_index=1).matches(event("level_started", level_index=True))
    both = EventFilter(types=frozenset({"node_generation_started"}), path_glob="docs/*",
                       level_index=0)
    assert not both.matches(other), "every criterion must hold"


def test_errors_are_failed_types_retries_failed_ends_and_error_fields() -> None:
    assert is_error(event("node_generation_failed", path="a"))
    assert is_error(event("provider_request_retrying"))
    assert is_error(event("session_ended", status="failed"))
    assert is_error(event("batch_processed", error="disk full"))
    assert not is_error(event("session_ended", status="completed", error=None))
    keep = EventFilter(errors=True)
    assert keep.matches_raw(encode_event(event("ingest_failed")))
    assert not keep.matches_raw(encode_event(event("queue_stats")))
    assert not keep.matches_raw(b"{oops"), "a filter drops what it cannot read"


def test_unknown_types_are_refused_with_the_closest_name() -> None:
    assert check_event_types(("node_skipped",)) == {"node_skipped"}
    with pytest.raises(UsageError, match="did you mean 'node_skipped'"):
        check_event_types(("node_skiped",))
