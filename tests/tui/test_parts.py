"""The TUI's parts without a screen: formatting, freshness, summaries, hand-off, layering."""

from __future__ import annotations

import ast
import threading
from pathlib import Path

import pytest

from contextree.progress import Event, EventStore
from contextree.progress.reducer import counts_from_tail
from contextree.progress.state import (
    COMPLETED,
    FAILED,
    RETRYING,
    SENDING,
    WAITING,
    NodeCounts,
    NodeState,
    RetryInfo,
)
from contextree.tui.data import SnapshotReader
from contextree.tui.feeds import Feed
from contextree.tui.format import node_summary, ts_epoch
from contextree.tui.freshness import FreshnessMeter, percentile
from tests.tui.synthetic import T0, fixed_ulid, generation_events, tree_plan, write_session

TUI = Path(__file__).resolve().parents[2] / "src" / "contextree" / "tui"
THREAD_SIDE = ("data.py", "feeds.py", "format.py", "freshness.py", "frames.py", "poller.py")


def event(event_type: str, **data: object) -> Event:
    return Event(ts="2026-11-18T09:00:00.000Z", session="S", seq=1, type=event_type, data=data)


def test_timestamps_parse_to_epoch_seconds() -> None:
    assert ts_epoch("1970-01-01T00:00:01.250Z") == pytest.approx(1.25)
    assert ts_epoch("2026-11-18T09:00:00.000Z") == pytest.approx(1_794_992_400.0)
    assert ts_epoch("not a timestamp") is None
    assert ts_epoch(None) is None


def test_node_summary_says_what_the_node_is_doing() -> None:
    waiting = NodeState(path="a.py", status=WAITING, sent_ts="1970-01-01T00:00:10.000Z")
    assert node_summary(waiting, now_s=13.5) == "for 3.5 s"
    done = NodeState(path="a.py", status=COMPLETED, duration_ms=812)
    assert node_summary(done, now_s=0) == "812 ms"
    failed = NodeState(path="a.py", status=FAILED, error="timeout\nstack trace")
    assert node_summary(failed, now_s=0) == "timeout"
    retrying = NodeState(path="a.py", status=RETRYING,
                         retries=(RetryInfo(attempt=2, delay_ms=1500, error="429"),))
    assert node_summary(retrying, now_s=0) == "retry 2 after 1.5 s"
    sending = NodeState(path="a.py", status=SENDING, attempt=1)
    assert node_summary(sending, now_s=0) == ""  # the status column already says sending
    sending.attempt = 3
    assert node_summary(sending, now_s=0) == "attempt 3"


def test_freshness_reports_percentiles_of_the_last_window() -> None:
    meter = FreshnessMeter(window=4)
    assert meter.percentiles() is None
    meter.add(10.0, [9.99, 9.98, 9.5, 9.0, 8.0])  # 10, 20, 500, 1000, 2000 ms: keeps 4
    assert len(meter) == 4
    p50, p95 = meter.percentiles() or (0, 0)
    assert p50 == pytest.approx(500) and p95 == pytest.approx(2000)
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95) == 10


def test_counts_come_from_the_summary_events_at_the_end() -> None:
    assert counts_from_tail([event("generation_completed", total_generated=7,
                                   total_failed=2)]) == NodeCounts(7, 2)
    assert counts_from_tail([event("scan_completed", node_count=40),
                             event("command_summary", ok=True)]) == NodeCounts(40, None)
    assert counts_from_tail([event("queue_stats", pending=1)]) is None


def test_snapshot_counts_nodes_of_sessions_without_a_summary(store: EventStore) -> None:
    plan = tree_plan(fail=frozenset({"pkg0/pkg0/module_00.py"}), stop_after_level=2)
    session_id = write_session(store, generation_events(plan), session_id=fixed_ulid(T0, 1),
                               status="interrupted")
    row = SnapshotReader(store, clock=lambda: T0).read().rows[0]
    assert row.session_id == session_id and row.status == "interrupted"
    # replayed (no summary event): the failed file's directory is skipped, a child failed
    assert row.counts == NodeCounts(done=95 + 15, failed=1)


class _Burst(Feed):
    def _run(self) -> None:
        for index in range(100):
            self._hand_over(events=[event("queue_stats", pending=index)])


def test_the_hand_off_is_bounded_and_wakes_once_per_drain(store: EventStore) -> None:
    woke = threading.Semaphore(0)
    wakes = 0

    def wake() -> None:
        nonlocal wakes
        wakes += 1
        woke.release()

    feed = _Burst(store, "S", wake=wake, max_pending=10)
    feed.start()
    taken: list[Event] = []
    try:
        while len(taken) < 100:
            assert woke.acquire(timeout=5)
            batch = feed.take()
            assert len(batch.events) <= 10  # the thread waits while the buffer is full
            taken += batch.events
    finally:
        feed.stop()
    assert [e.data["pending"] for e in taken] == list(range(100))
    assert wakes < 100  # one wake per drained buffer, not one per event


@pytest.mark.parametrize("name", THREAD_SIDE)
def test_the_thread_side_of_the_tui_does_not_import_textual(name: str) -> None:
    tree = ast.parse((TUI / name).read_text(encoding="utf-8"))
    modules = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
               for alias in node.names}
    modules |= {node.module for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) and node.module}
    assert not [module for module in modules if module.split(".")[0] == "textual"]
