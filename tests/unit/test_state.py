"""The state model (seed §12 TUI contract tests, against the shared reducer)."""

from __future__ import annotations

from typing import Any

import pytest

from contextree.progress.event import Event
from contextree.progress.reducer import apply_event, replay
from contextree.progress.state import (
    COMPLETED,
    FAILED,
    QUEUED,
    RETRYING,
    SENDING,
    SKIPPED,
    WAITING,
    SessionState,
)

SID = "01JD0000000000000000000000"


class Feed:
    """Builds events with increasing seq and applies them to a state."""

    def __init__(self) -> None:
        self.state = SessionState()
        self.seq = 0
        self.events: list[Event] = []

    def __call__(self, event_type: str, **data: Any) -> SessionState:
        self.seq += 1
        event = Event(ts=f"2026-11-24T10:00:{self.seq % 60:02d}.000Z", session=SID, seq=self.seq,
                      type=event_type, data=data)
        self.events.append(event)
        apply_event(self.state, event)
        return self.state


NODE = {"node_id": "ab" * 32, "path": "src/a.py", "agent_id": "docs", "provider_name": "local",
        "frame_type": "context-docs"}
PROVIDER = {"request_id": "r1", "node_id": NODE["node_id"], "path": "src/a.py",
            "provider_name": "local", "provider_type": "local", "model": "m1"}


def test_provider_sent_then_received_moves_a_node_from_waiting_to_complete() -> None:
    feed = Feed()
    feed("node_generation_started", plan_id="p", level_index=0, **NODE)
    feed("request_processing", request_id="r1", node_id=NODE["node_id"], path="src/a.py",
         attempt=1, queue_wait_ms=12)
    assert feed.state.nodes["src/a.py"].status == SENDING
    state = feed("provider_request_sent", attempt=1, prompt_chars=100, **PROVIDER)
    node = state.nodes["src/a.py"]
    assert node.status == WAITING and node.sent_ts is not None and node.model == "m1"
    state = feed("provider_response_received", attempt=1, duration_ms=250, input_tokens=30,
                 output_tokens=40, response_chars=160, **PROVIDER)
    assert node.status == COMPLETED
    assert (node.provider_ms, node.output_tokens, node.queue_wait_ms) == (250, 40, 12)
    assert state.completed_count == 1 and state.provider.responses == 1


def test_node_generation_failed_carries_the_error_message() -> None:
    feed = Feed()
    feed("node_generation_started", plan_id="p", level_index=0, **NODE)
    feed("provider_request_sent", attempt=1, prompt_chars=10, **PROVIDER)
    feed("provider_request_failed", attempt=1, duration_ms=30, error="HTTP 503: overloaded",
         error_kind="server", status_code=503, retryable=True, **PROVIDER)
    state = feed("provider_request_retrying", attempt=2, delay_ms=500, error="HTTP 503",
                 **PROVIDER)
    node = state.nodes["src/a.py"]
    assert node.status == RETRYING and node.retries[0].delay_ms == 500
    feed("provider_request_failed", attempt=2, duration_ms=20, error="HTTP 401: bad key",
         error_kind="auth", status_code=401, retryable=False, **PROVIDER)
    state = feed("node_generation_failed", plan_id="p", level_index=0,
                 error="auth: HTTP 401: bad key", duration_ms=700, **NODE)
    assert node.status == FAILED
    assert node.error == "auth: HTTP 401: bad key" and node.error_kind == "auth"
    assert node.attempt_ms == (30, 20) and state.failed_count == 1


def test_level_started_and_completed_drive_the_progress_model() -> None:
    feed = Feed()
    feed("plan_constructed", plan_id="p", total_nodes=3, total_levels=2, skipped_count=0)
    state = feed("level_started", plan_id="p", level_index=0, total_levels=2, node_count=2)
    assert state.current_level == 0 and state.levels[0].status == "running"
    assert (state.total_levels, state.levels[0].node_count) == (2, 2)
    for path in ("a.py", "b.py"):
        feed("node_generation_started", plan_id="p", level_index=0, **{**NODE, "path": path})
        feed("node_generation_completed", plan_id="p", level_index=0, frame_id="f",
             duration_ms=5, **{**NODE, "path": path})
    state = feed("level_completed", plan_id="p", level_index=0, completed_count=2, failed_count=0,
                 node_count=2, duration_ms=10)
    assert state.levels[0].status == "completed" and state.levels[0].completed_count == 2
    assert state.levels[0].paths == ["a.py", "b.py"]
    state = feed("level_started", plan_id="p", level_index=1, total_levels=2, node_count=1)
    assert state.current_level == 1 and state.completed_count == 2 and state.done_count == 2


def test_skips_queue_stats_and_unknown_events() -> None:
    feed = Feed()
    feed("node_skipped", reason="head_reuse", **NODE)
    feed("queue_stats", pending=3, in_flight=1, completed=2, failed=0, deduplicated=1, retrying=0)
    state = feed("something_from_the_future", whatever=[1, 2])
    assert state.nodes["src/a.py"].status == SKIPPED
    assert state.nodes["src/a.py"].skip_reason == "head_reuse"
    assert state.queue["pending"] == 3 and state.skipped_count == 1
    assert state.event_types["something_from_the_future"] == 1


def test_session_lifecycle_and_replay_give_the_same_state() -> None:
    feed = Feed()
    feed("session_started", command="context.generate", args={}, workspace="/w", pid=1,
         version="0")
    feed("node_generation_started", plan_id="p", level_index=0, **NODE)
    assert feed.state.nodes["src/a.py"].status == QUEUED
    feed("session_ended", status="failed", error="boom", duration_ms=9)
    replayed = replay(feed.events)
    assert replayed.to_json() == feed.state.to_json()
    assert replayed.status == "failed" and replayed.error == "boom"


def test_scan_and_watch_metrics() -> None:
    feed = Feed()
    feed("scan_started", root=".", force=False)
    feed("scan_progress", node_count=10, file_count=8, dir_count=2, bytes_hashed=100)
    state = feed("scan_completed", node_count=12, file_count=9, dir_count=3, bytes_hashed=120,
                 files_rehashed=9, root_id="r", changed=True, duration_ms=4)
    assert (state.scan.file_count, state.scan.root_id, state.scan.done) == (9, "r", True)
    feed("watch_started", root=".", debounce_ms=50, generate=False)
    feed("file_changed", path="a.py", change="modified")
    state = feed("batch_processed", change_count=1, nodes_updated=2, root_id="r2", duration_ms=1)
    assert state.watch.batches == 1 and state.watch.by_change["modified"] == 1
    assert state.watch.root_id == "r2"


@pytest.mark.parametrize(("ending", "expected"), [
    ("generation_failed", "cancelled"),  # the orchestrator saw the cancellation
    ("session_ended", "cancelled"),  # only the session's end says so
    ("session_failed", "failed"),  # the command failed with the generation running
])
def test_a_generation_stopped_early_leaves_no_level_running(ending: str, expected: str) -> None:
    feed = Feed()
    feed("generation_started", plan_id="p", total_levels=2, total_nodes=2)
    feed("level_started", plan_id="p", level_index=0, total_levels=2, node_count=2)
    feed("node_generation_started", plan_id="p", level_index=0, **NODE)
    feed("provider_request_sent", attempt=1, prompt_chars=10, **PROVIDER)
    feed("node_generation_started", plan_id="p", level_index=0, **{**NODE, "path": "src/b.py"})
    feed("node_generation_completed", plan_id="p", level_index=0, frame_id="f", duration_ms=5,
         **{**NODE, "path": "src/b.py"})
    if ending == "generation_failed":
        feed("generation_failed", plan_id="p", reason="cancelled", failed_level_index=None,
             total_generated=1, total_failed=0, duration_ms=9)
    error = "disk full" if ending == "session_failed" else "cancelled"
    state = feed("session_ended", status="failed", error=error, duration_ms=10)

    assert state.generation_status == expected
    (level,) = state.level_list()
    assert (level.status, level.completed_count) == (expected, 1)
    in_flight = state.nodes["src/a.py"].status
    assert in_flight == ("cancelled" if expected == "cancelled" else WAITING)
    assert state.nodes["src/b.py"].status == COMPLETED
