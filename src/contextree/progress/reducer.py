"""The reducer: folds a session's events, in seq order, into its `SessionState`.

One reducer serves the TUI, replay and the CLI, so feeding a session's stored events in order
rebuilds exactly what a live follower saw (the seed's completeness guarantee). Each event type
has one handler; unknown event types and fields are ignored, and a stored value of the wrong
type is skipped, never a crash.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from contextree.progress.catalog import EventType
from contextree.progress.event import Event
from contextree.progress.session import ACTIVE, ENDED_STATUSES, SessionRecord
from contextree.progress.state import (
    CANCELLED,
    COMPLETED,
    FAILED,
    FINAL_NODE_STATUSES,
    IN_FLIGHT_NODE_STATUSES,
    PENDING,
    QUEUED,
    RECENT_CHANGES_KEPT,
    RETRYING,
    RUNNING,
    SENDING,
    SKIPPED,
    WAITING,
    LevelState,
    NodeCounts,
    NodeState,
    RetryInfo,
    ScanMetrics,
    SessionState,
)


def apply_event(state: SessionState, event: Event) -> None:
    """Fold one event into the state (events of one session, in seq order)."""
    if state.session_id is None:
        state.session_id = event.session
    state.last_seq = event.seq
    state.last_ts = event.ts
    state.event_count += 1
    state.event_types[event.type] += 1
    handler = _HANDLERS.get(event.type)
    if handler is not None:
        handler(state, event.data, event.ts)


def apply_events(state: SessionState, events: Iterable[Event]) -> SessionState:
    """Fold events into the state in order; returns the state."""
    for event in events:
        apply_event(state, event)
    return state


def apply_record(state: SessionState, record: SessionRecord) -> None:
    """Take the effective status of the stored record (e.g. `interrupted`)."""
    state.session_id = state.session_id or record.session_id
    state.command = state.command or record.command
    if state.status not in ENDED_STATUSES or record.status in ENDED_STATUSES:
        state.status = record.status
    if record.error and not state.error:
        state.error = record.error


def replay(events: Iterable[Event], record: SessionRecord | None = None) -> SessionState:
    """Rebuild a session's state from its stored events (and effective status)."""
    state = apply_events(SessionState(), events)
    if record is not None:
        apply_record(state, record)
    return state


def counts_from_tail(events: list[Event]) -> NodeCounts | None:
    """Node counts from the summary events at a session's end, or None if there are none
    (a cursor read of a session's last few events, instead of a replay of all of them)."""
    for event in reversed(events):
        data = event.data
        if event.type in (EventType.GENERATION_COMPLETED, EventType.GENERATION_FAILED):
            return NodeCounts(_count(data.get("total_generated")), _count(data.get("total_failed")))
        if event.type == EventType.SCAN_COMPLETED:
            return NodeCounts(_count(data.get("node_count")), _count(data.get("skipped_count")))
    return None


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# -- event handlers ---------------------------------------------------------------------

Handler = Callable[[SessionState, dict[str, Any], str], None]
_HANDLERS: dict[str, Handler] = {}


def _on(*types: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        for event_type in types:
            _HANDLERS[event_type] = handler
        return handler

    return register


def _identify(node: NodeState, data: dict[str, Any]) -> None:
    for name in ("node_id", "agent_id", "provider_name", "provider_type", "model", "frame_type",
                 "request_id"):
        value = data.get(name)
        if isinstance(value, str):
            setattr(node, name, value)
    level = data.get("level_index")
    if isinstance(level, int):
        node.level_index = level


def _int(value: Any) -> int | None:
    """A numeric field as an int, or None when the stored value is not a finite number (a
    reader skips what it cannot use instead of failing on it)."""
    if type(value) is int:
        return value
    if isinstance(value, int | float) and math.isfinite(value):
        return int(value)
    return None


def _node_for(state: SessionState, data: dict[str, Any]) -> NodeState | None:
    path = data.get("path")
    if not isinstance(path, str):
        return None
    node = state.node(path)
    _identify(node, data)
    return node


@_on(EventType.SESSION_STARTED)
def _session_started(state: SessionState, data: dict[str, Any], ts: str) -> None:
    state.command = data.get("command", state.command)
    args = data.get("args")
    state.args = args if isinstance(args, dict) else {}
    state.workspace = data.get("workspace")
    state.pid = _int(data.get("pid"))
    state.started_ts = ts
    state.status = ACTIVE


@_on(EventType.SESSION_ENDED)
def _session_ended(state: SessionState, data: dict[str, Any], ts: str) -> None:
    status = data.get("status")
    state.status = status if isinstance(status, str) and status in ENDED_STATUSES else COMPLETED
    state.error = data.get("error") or state.error
    state.duration_ms = _int(data.get("duration_ms"))
    state.ended_ts = ts
    if state.generation_status == RUNNING:  # ended without generation_completed or _failed
        _stop_generation(state, CANCELLED if state.error == CANCELLED else FAILED)


@_on(EventType.INGEST_FAILED)
def _ingest_failed(state: SessionState, data: dict[str, Any], ts: str) -> None:
    state.status = FAILED
    state.error = data.get("error") or "events could not be stored"
    state.ended_ts = ts


@_on(EventType.COMMAND_SUMMARY)
def _command_summary(state: SessionState, data: dict[str, Any], ts: str) -> None:
    state.summary = dict(data)


# Scanner and watcher


@_on(EventType.SCAN_STARTED)
def _scan_started(state: SessionState, data: dict[str, Any], ts: str) -> None:
    state.scan = ScanMetrics()


@_on(EventType.SCAN_PROGRESS, EventType.SCAN_COMPLETED)
def _scan_counts(state: SessionState, data: dict[str, Any], ts: str) -> None:
    scan = state.scan
    for name in ("node_count", "file_count", "dir_count", "bytes_hashed", "skipped_count"):
        value = data.get(name)
        if isinstance(value, int):
            setattr(scan, name, value)
    if "root_id" in data:
        scan.root_id = data.get("root_id")
        scan.changed = data.get("changed")
        scan.files_rehashed = _int(data.get("files_rehashed"))
        scan.duration_ms = _int(data.get("duration_ms"))
        scan.done = True


@_on(EventType.WATCH_STARTED)
def _watch_started(state: SessionState, data: dict[str, Any], ts: str) -> None:
    watch = state.watch
    watch.root = data.get("root")
    watch.debounce_ms = _int(data.get("debounce_ms"))
    watch.generate = bool(data.get("generate"))


@_on(EventType.FILE_CHANGED)
def _file_changed(state: SessionState, data: dict[str, Any], ts: str) -> None:
    watch = state.watch
    change = str(data.get("change", "modified"))
    watch.changes += 1
    watch.by_change[change] += 1
    watch.recent_changes.append((str(data.get("path", "?")), change))
    if len(watch.recent_changes) > RECENT_CHANGES_KEPT:
        del watch.recent_changes[: RECENT_CHANGES_KEPT // 2]


@_on(EventType.BATCH_PROCESSED)
def _batch_processed(state: SessionState, data: dict[str, Any], ts: str) -> None:
    watch = state.watch
    watch.batches += 1
    watch.nodes_updated += _int(data.get("nodes_updated")) or 0
    watch.root_id = data.get("root_id", watch.root_id)


@_on(EventType.WATCH_STOPPED)
def _watch_stopped(state: SessionState, data: dict[str, Any], ts: str) -> None:
    state.watch.stopped_reason = data.get("reason")


# Context generate and orchestrator


@_on(EventType.PLAN_CONSTRUCTED)
def _plan_constructed(state: SessionState, data: dict[str, Any], ts: str) -> None:
    state.plan = dict(data)
    state.total_nodes = _int(data.get("total_nodes")) or 0
    state.total_levels = _int(data.get("total_levels")) or 0


@_on(EventType.DESCENDANT_CHECK_STARTED, EventType.DESCENDANT_CHECK_PASSED,
     EventType.DESCENDANT_CHECK_FAILED)
def _descendant_check(state: SessionState, data: dict[str, Any], ts: str) -> None:
    state.descendant_check = dict(data)


@_on(EventType.GENERATION_STARTED)
def _generation_started(state: SessionState, data: dict[str, Any], ts: str) -> None:
    state.generation_status = RUNNING
    state.total_levels = _int(data.get("total_levels")) or state.total_levels
    state.total_nodes = _int(data.get("total_nodes")) or state.total_nodes


@_on(EventType.GENERATION_COMPLETED)
def _generation_completed(state: SessionState, data: dict[str, Any], ts: str) -> None:
    state.generation_status = COMPLETED


@_on(EventType.GENERATION_FAILED)
def _generation_failed(state: SessionState, data: dict[str, Any], ts: str) -> None:
    reason = data.get("reason")
    state.generation_reason = reason
    _stop_generation(state, CANCELLED if reason == CANCELLED else FAILED)


def _stop_generation(state: SessionState, status: str) -> None:
    """End a generation that stopped before its last level: the level that was running ends
    with it, and so, when cancelled, do the nodes still in flight (none will complete)."""
    state.generation_status = status
    for level in state.levels.values():
        if level.status == RUNNING:
            level.status = status
            ended = Counter(state.nodes[path].status for path in level.paths)
            level.completed_count, level.failed_count = ended[COMPLETED], ended[FAILED]
    if status != CANCELLED:
        return
    for node in state.nodes.values():
        if node.status in IN_FLIGHT_NODE_STATUSES:
            node.sent_ts = None
            state.set_node_status(node, CANCELLED)


@_on(EventType.LEVEL_STARTED)
def _level_started(state: SessionState, data: dict[str, Any], ts: str) -> None:
    index = _int(data.get("level_index")) or 0
    level = state.levels.setdefault(index, LevelState(index=index))
    level.node_count = _int(data.get("node_count")) or 0
    level.status = RUNNING
    level.started_ts = ts
    state.current_level = index
    state.total_levels = _int(data.get("total_levels")) or state.total_levels


@_on(EventType.LEVEL_COMPLETED)
def _level_completed(state: SessionState, data: dict[str, Any], ts: str) -> None:
    index = _int(data.get("level_index")) or 0
    level = state.levels.setdefault(index, LevelState(index=index))
    level.completed_count = _int(data.get("completed_count")) or 0
    level.failed_count = _int(data.get("failed_count")) or 0
    level.node_count = _int(data.get("node_count")) or level.node_count
    level.duration_ms = _int(data.get("duration_ms"))
    level.status = FAILED if level.failed_count else COMPLETED


@_on(EventType.NODE_GENERATION_STARTED)
def _node_started(state: SessionState, data: dict[str, Any], ts: str) -> None:
    node = _node_for(state, data)
    if node is None:
        return
    node.started_ts = ts
    node.error = None
    if node.level_index is not None:
        level = state.levels.setdefault(node.level_index, LevelState(index=node.level_index))
        level.add_path(node.path)
    if node.status in (PENDING, *FINAL_NODE_STATUSES):
        state.set_node_status(node, QUEUED)


@_on(EventType.NODE_GENERATION_COMPLETED)
def _node_completed(state: SessionState, data: dict[str, Any], ts: str) -> None:
    node = _node_for(state, data)
    if node is None:
        return
    node.frame_id = data.get("frame_id", node.frame_id)
    node.duration_ms = _int(data.get("duration_ms"))
    node.finished_ts = ts
    state.set_node_status(node, COMPLETED)


@_on(EventType.NODE_GENERATION_FAILED)
def _node_failed(state: SessionState, data: dict[str, Any], ts: str) -> None:
    node = _node_for(state, data)
    if node is None:
        return
    node.error = str(data.get("error") or "failed")
    node.duration_ms = _int(data.get("duration_ms"))
    node.finished_ts = ts
    state.set_node_status(node, FAILED)


@_on(EventType.NODE_SKIPPED)
def _node_skipped(state: SessionState, data: dict[str, Any], ts: str) -> None:
    node = _node_for(state, data)
    if node is None:
        return
    node.skip_reason = data.get("reason")
    state.set_node_status(node, SKIPPED)
    if node.level_index is not None:  # skipped inside the run (a child failed): in its level
        level = state.levels.setdefault(node.level_index, LevelState(index=node.level_index))
        level.add_path(node.path)


# Queue and provider


@_on(EventType.REQUEST_ENQUEUED)
def _request_enqueued(state: SessionState, data: dict[str, Any], ts: str) -> None:
    node = _node_for(state, data)
    if node is not None and node.status == PENDING:
        state.set_node_status(node, QUEUED)


@_on(EventType.REQUEST_PROCESSING)
def _request_processing(state: SessionState, data: dict[str, Any], ts: str) -> None:
    node = _node_for(state, data)
    if node is None:
        return
    node.attempt = _int(data.get("attempt")) or node.attempt + 1
    if node.queue_wait_ms is None:
        node.queue_wait_ms = _int(data.get("queue_wait_ms"))
    state.set_node_status(node, SENDING)


@_on(EventType.PROVIDER_REQUEST_SENT)
def _provider_sent(state: SessionState, data: dict[str, Any], ts: str) -> None:
    state.provider.requests += 1
    node = _node_for(state, data)
    if node is None:
        return
    node.attempt = _int(data.get("attempt")) or node.attempt
    node.sent_ts = ts
    state.set_node_status(node, WAITING)


@_on(EventType.PROVIDER_RESPONSE_RECEIVED)
def _provider_received(state: SessionState, data: dict[str, Any], ts: str) -> None:
    provider = state.provider
    latency = _int(data.get("duration_ms")) or 0
    provider.responses += 1
    provider.total_latency_ms += latency
    provider.max_latency_ms = max(provider.max_latency_ms, latency)
    provider.input_tokens += _int(data.get("input_tokens")) or 0
    provider.output_tokens += _int(data.get("output_tokens")) or 0
    node = _node_for(state, data)
    if node is None:
        return
    node.provider_ms += latency
    node.attempt_ms += (latency,)
    node.input_tokens = _int(data.get("input_tokens"))
    node.output_tokens = _int(data.get("output_tokens"))
    node.sent_ts = None
    node.error = None
    state.set_node_status(node, COMPLETED)


@_on(EventType.PROVIDER_REQUEST_FAILED)
def _provider_failed(state: SessionState, data: dict[str, Any], ts: str) -> None:
    state.provider.failures += 1
    node = _node_for(state, data)
    if node is None:
        return
    latency = _int(data.get("duration_ms")) or 0
    node.provider_ms += latency
    node.attempt_ms += (latency,)
    node.error = str(data.get("error") or "provider request failed")
    node.error_kind = data.get("error_kind")
    node.status_code = _int(data.get("status_code"))
    node.sent_ts = None
    if not data.get("retryable"):
        state.set_node_status(node, FAILED)


@_on(EventType.PROVIDER_REQUEST_RETRYING)
def _provider_retrying(state: SessionState, data: dict[str, Any], ts: str) -> None:
    state.provider.retries += 1
    node = _node_for(state, data)
    if node is None:
        return
    attempt = _int(data.get("attempt")) or node.attempt + 1
    node.retries += (RetryInfo(attempt=attempt, delay_ms=_int(data.get("delay_ms")) or 0,
                               error=str(data.get("error") or ""), ts=ts),)
    state.set_node_status(node, RETRYING)


@_on(EventType.QUEUE_STATS)
def _queue_stats(state: SessionState, data: dict[str, Any], ts: str) -> None:
    state.queue = {key: value for key, value in data.items() if isinstance(value, int)}
