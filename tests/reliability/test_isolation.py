"""Isolation: one session's bad data never harms another session of the same process.

Whatever would make a record or an event unencodable (a lone surrogate in the command name,
nesting deeper than the stated limit, keys that are not strings or numbers, NaN) is refused
at the call site with an `EventError`. A commit that fails anyway is retried without the
failing session: only that session ends `failed`, its neighbours in the same batch keep every
event, and later sessions and flushes of the process are unaffected.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from contextree.errors import EventError, IngestError
from contextree.progress import ProgressRuntime
from contextree.progress.event import MAX_PAYLOAD_DEPTH, event_key


@pytest.fixture
def runtime(tmp_path: Path) -> Any:
    with ProgressRuntime.open(tmp_path / "store") as opened:
        yield opened


def nested(depth: int) -> dict[str, Any]:
    """An object `depth` levels deep (the payload itself is level 1)."""
    data: dict[str, Any] = {}
    for _ in range(depth - 1):
        data = {"a": data}
    return data


def nested_list(depth: int) -> list[Any]:
    """A list `depth` levels deep."""
    data: list[Any] = [1]
    for _ in range(depth - 1):
        data = [data]
    return data


BAD_PAYLOADS = {
    "deep": nested(10_000),
    "just too deep": nested(MAX_PAYLOAD_DEPTH + 1),
    "deep list": {"a": nested_list(MAX_PAYLOAD_DEPTH)},
    "None key": {"a": {None: 1}},
    "tuple key": {(1, 2): "x"},
    "NaN": {"ratio": float("nan")},
    "infinity": {"a": [1.0, float("-inf")]},
}


@pytest.mark.parametrize("data", BAD_PAYLOADS.values(), ids=BAD_PAYLOADS.keys())
def test_an_unencodable_payload_is_an_event_error_at_emit(
    runtime: ProgressRuntime, data: dict[str, Any]
) -> None:
    with runtime.session("isolation.emit") as session:
        with pytest.raises(EventError):
            session.emit("queue_stats", data)
        session.emit("queue_stats", {"n": 1})
    runtime.flush()
    types = [e.type for e in runtime.store.read_events(session.session_id)]
    assert types == ["session_started", "queue_stats", "session_ended"]


@pytest.mark.parametrize("data", BAD_PAYLOADS.values(), ids=BAD_PAYLOADS.keys())
def test_unencodable_session_args_are_an_event_error_at_session_start(
    runtime: ProgressRuntime, data: dict[str, Any]
) -> None:
    with pytest.raises(EventError):
        runtime.session("isolation.args", data)
    with runtime.session("isolation.after") as after:
        after.emit("queue_stats", {"n": 1})
    assert [r.command for r in runtime.store.list_sessions()] == ["isolation.after"]


def test_the_stated_depth_is_accepted(runtime: ProgressRuntime) -> None:
    with runtime.session("isolation.depth", {"deep": nested(MAX_PAYLOAD_DEPTH - 2)}) as session:
        session.emit("queue_stats", nested(MAX_PAYLOAD_DEPTH))
    (event,) = [e for e in runtime.store.read_events(session.session_id)
                if e.type == "queue_stats"]
    assert event.data == nested(MAX_PAYLOAD_DEPTH)


def test_a_surrogate_in_the_command_name_fails_that_session_only(
    runtime: ProgressRuntime,
) -> None:
    neighbour = runtime.session("isolation.neighbour")
    for index in range(500):
        neighbour.emit("queue_stats", {"n": index})
    with pytest.raises(EventError, match="lone surrogate"):
        runtime.session("bad\udcff")
    for index in range(500, 1000):
        neighbour.emit("queue_stats", {"n": index})
    runtime.flush()
    neighbour.end()
    numbers = [e.data["n"] for e in runtime.store.read_events(neighbour.session_id)
               if e.type == "queue_stats"]
    assert numbers == list(range(1000))
    with runtime.session("isolation.later") as later:
        later.emit("queue_stats", {"n": 1})
    runtime.flush()
    assert {r.command: r.status for r in runtime.store.list_sessions()} == {
        "isolation.neighbour": "completed", "isolation.later": "completed"}


class FailWritesOf:
    """Wraps the store's `commit_batch`: holds the first commit until `release` (so what is
    emitted meanwhile lands in one batch), then fails every commit holding `session_id`'s
    second event when it is a `queue_stats` (its `ingest_failed` may still be written)."""

    def __init__(self, runtime: ProgressRuntime, session_id: str) -> None:
        self.key = event_key(session_id, 2)
        self.holding = threading.Event()
        self.release = threading.Event()
        self.failed_commits = 0
        self.real_commit = runtime.store.commit_batch

    def __call__(self, **batch: Any) -> None:
        if not self.holding.is_set():
            self.holding.set()
            self.release.wait(60)
        events: list[tuple[bytes, bytes]] = batch["events"]
        if any(key == self.key and b'"queue_stats"' in value for key, value in events):
            self.failed_commits += 1
            raise OSError(5, "Input/output error")
        self.real_commit(**batch)


def test_a_failing_commit_is_retried_without_the_failing_session(
    runtime: ProgressRuntime,
) -> None:
    good = runtime.session("isolation.good")
    bad = runtime.session("isolation.bad")
    hook = FailWritesOf(runtime, bad.session_id)
    runtime.store.commit_batch = hook  # type: ignore[method-assign]
    good.emit("queue_stats", {"n": -1})
    assert hook.holding.wait(60), "the ingestor never committed"
    for index in range(200):
        good.emit("queue_stats", {"n": index})
        bad.emit("queue_stats", {"n": index})
    hook.release.set()
    with pytest.raises(IngestError, match="Input/output error"):
        runtime.flush()
    runtime.flush()  # reported once: a failure does not poison later flushes
    good.end()
    with pytest.raises(IngestError):
        bad.end()
    with runtime.session("isolation.later") as later:
        later.emit("queue_stats", {"n": 1})
    del runtime.store.commit_batch

    assert hook.failed_commits >= 3, "the batch, its retry, then the bad session alone"
    good_numbers = [e.data["n"] for e in runtime.store.read_events(good.session_id)
                    if e.type == "queue_stats"]
    assert good_numbers == list(range(-1, 200))
    bad_events = runtime.store.read_events(bad.session_id)
    assert [e.type for e in bad_events] == ["session_started", "ingest_failed"]
    assert bad_events[-1].data["lost_count"] >= 200
    statuses = {r.command: r.status for r in runtime.store.list_sessions()}
    assert statuses == {"isolation.good": "completed", "isolation.bad": "failed",
                        "isolation.later": "completed"}
