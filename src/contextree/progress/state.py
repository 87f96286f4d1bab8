"""The session state model: one event-sourced reducer for the TUI, replay and the CLI.

`SessionState.apply(event)` folds one event into the state; feeding a session's stored events
in order rebuilds exactly what a live follower saw (the seed's completeness guarantee). It
tracks the session's status, the plan's levels, every node's status (pending → queued →
sending → waiting → completed, or retrying / failed / skipped) with its error and timing,
counts, scan and watch metrics, queue statistics and provider timing. Unknown event types and
fields are ignored. Nodes are keyed by their workspace-relative path.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from contextree.progress.event import Event
from contextree.progress.session import ACTIVE, ENDED_STATUSES, SessionRecord

PENDING, QUEUED, SENDING, WAITING = "pending", "queued", "sending", "waiting"
RETRYING, COMPLETED, FAILED, SKIPPED = "retrying", "completed", "failed", "skipped"
NODE_STATUSES = (PENDING, QUEUED, SENDING, WAITING, RETRYING, COMPLETED, FAILED, SKIPPED)
_FINAL_NODE_STATUSES = frozenset({COMPLETED, FAILED, SKIPPED})
RECENT_CHANGES_KEPT = 200


@dataclass
class RetryInfo:
    """One failed attempt that will be retried, and the backoff before the next."""

    attempt: int
    delay_ms: int
    error: str


@dataclass
class NodeState:
    """Everything known about one node of the session."""

    path: str
    node_id: str | None = None
    status: str = PENDING
    level_index: int | None = None
    agent_id: str | None = None
    provider_name: str | None = None
    provider_type: str | None = None
    model: str | None = None
    frame_type: str | None = None
    frame_id: str | None = None
    request_id: str | None = None
    attempt: int = 0
    error: str | None = None
    error_kind: str | None = None
    status_code: int | None = None
    skip_reason: str | None = None
    retries: list[RetryInfo] = field(default_factory=list)
    queue_wait_ms: int | None = None
    provider_ms: int = 0
    attempt_ms: list[int] = field(default_factory=list)
    duration_ms: int | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    started_ts: str | None = None
    sent_ts: str | None = None
    finished_ts: str | None = None


@dataclass
class LevelState:
    """One level of the plan (deepest first)."""

    index: int
    node_count: int = 0
    completed_count: int = 0
    failed_count: int = 0
    status: str = PENDING
    duration_ms: int | None = None
    started_ts: str | None = None
    paths: list[str] = field(default_factory=list)
    path_set: set[str] = field(default_factory=set, repr=False)

    def add_path(self, path: str) -> None:
        """Remember a node of this level once, in first-seen order (O(1) membership)."""
        if path not in self.path_set:
            self.path_set.add(path)
            self.paths.append(path)


@dataclass
class ScanMetrics:
    node_count: int = 0
    file_count: int = 0
    dir_count: int = 0
    bytes_hashed: int = 0
    files_rehashed: int | None = None
    root_id: str | None = None
    changed: bool | None = None
    skipped_count: int = 0
    duration_ms: int | None = None
    done: bool = False


@dataclass
class WatchMetrics:
    root: str | None = None
    debounce_ms: int | None = None
    generate: bool = False
    batches: int = 0
    changes: int = 0
    nodes_updated: int = 0
    root_id: str | None = None
    stopped_reason: str | None = None
    by_change: Counter[str] = field(default_factory=Counter)
    recent_changes: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class ProviderTiming:
    requests: int = 0
    responses: int = 0
    failures: int = 0
    retries: int = 0
    total_latency_ms: int = 0
    max_latency_ms: int = 0
    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def mean_latency_ms(self) -> float | None:
        return self.total_latency_ms / self.responses if self.responses else None


@dataclass
class SessionState:
    """The state of one session, built by applying its events in order."""

    session_id: str | None = None
    command: str | None = None
    args: dict[str, Any] = field(default_factory=dict)
    workspace: str | None = None
    pid: int | None = None
    status: str = ACTIVE
    error: str | None = None
    started_ts: str | None = None
    last_ts: str | None = None
    ended_ts: str | None = None
    duration_ms: int | None = None
    last_seq: int = 0
    event_count: int = 0
    event_types: Counter[str] = field(default_factory=Counter)
    plan: dict[str, Any] = field(default_factory=dict)
    total_nodes: int = 0
    total_levels: int = 0
    current_level: int | None = None
    generation_status: str | None = None
    generation_reason: str | None = None
    levels: dict[int, LevelState] = field(default_factory=dict)
    nodes: dict[str, NodeState] = field(default_factory=dict)
    status_counts: Counter[str] = field(default_factory=Counter)
    scan: ScanMetrics = field(default_factory=ScanMetrics)
    watch: WatchMetrics = field(default_factory=WatchMetrics)
    queue: dict[str, int] = field(default_factory=dict)
    provider: ProviderTiming = field(default_factory=ProviderTiming)
    summary: dict[str, Any] = field(default_factory=dict)
    descendant_check: dict[str, Any] = field(default_factory=dict)

    # -- the reducer ----------------------------------------------------------------------

    def apply(self, event: Event) -> None:
        """Fold one event into the state (events of one session, in seq order)."""
        if self.session_id is None:
            self.session_id = event.session
        self.last_seq = event.seq
        self.last_ts = event.ts
        self.event_count += 1
        self.event_types[event.type] += 1
        handler = _HANDLERS.get(event.type)
        if handler is not None:
            handler(self, event.data, event.ts)

    def apply_all(self, events: Iterable[Event]) -> SessionState:
        for event in events:
            self.apply(event)
        return self

    def apply_record(self, record: SessionRecord) -> None:
        """Take the effective status of the stored record (e.g. `interrupted`)."""
        self.session_id = self.session_id or record.session_id
        self.command = self.command or record.command
        if self.status not in ENDED_STATUSES or record.status in ENDED_STATUSES:
            self.status = record.status
        if record.error and not self.error:
            self.error = record.error

    # -- queries --------------------------------------------------------------------------

    @property
    def completed_count(self) -> int:
        return self.status_counts[COMPLETED]

    @property
    def failed_count(self) -> int:
        return self.status_counts[FAILED]

    @property
    def skipped_count(self) -> int:
        return self.status_counts[SKIPPED]

    @property
    def done_count(self) -> int:
        return self.completed_count + self.failed_count + self.skipped_count

    def node(self, path: str) -> NodeState:
        """The node at `path`, created (pending) on first mention."""
        node = self.nodes.get(path)
        if node is None:
            node = self.nodes[path] = NodeState(path=path)
            self.status_counts[PENDING] += 1
        return node

    def set_node_status(self, node: NodeState, status: str) -> None:
        if node.status == status:
            return
        self.status_counts[node.status] -= 1
        self.status_counts[status] += 1
        node.status = status

    def level_list(self) -> list[LevelState]:
        return [self.levels[index] for index in sorted(self.levels)]

    def to_json(self) -> dict[str, Any]:
        """The final state as plain JSON (what `ctree sessions replay --json` prints)."""
        return {
            "session_id": self.session_id,
            "command": self.command,
            "status": self.status,
            "error": self.error,
            "started_at": self.started_ts,
            "ended_at": self.ended_ts,
            "duration_ms": self.duration_ms,
            "last_seq": self.last_seq,
            "event_count": self.event_count,
            "counts": {
                "total_nodes": self.total_nodes,
                "completed": self.completed_count,
                "failed": self.failed_count,
                "skipped": self.skipped_count,
                "events_by_type": dict(sorted(self.event_types.items())),
            },
            "generation": {
                "status": self.generation_status,
                "reason": self.generation_reason,
                "total_levels": self.total_levels,
                "plan": self.plan,
            },
            "levels": [_level_json(level) for level in self.level_list()],
            "nodes": {path: _node_json(node) for path, node in sorted(self.nodes.items())},
            "scan": asdict(self.scan) if self.event_types["scan_started"] else None,
            "watch": _watch_json(self.watch) if self.event_types["watch_started"] else None,
            "queue": self.queue or None,
            "provider": asdict(self.provider) if self.provider.requests else None,
            "summary": self.summary or None,
        }


def replay(events: Iterable[Event], record: SessionRecord | None = None) -> SessionState:
    """Rebuild a session's state from its stored events (and effective status)."""
    state = SessionState().apply_all(events)
    if record is not None:
        state.apply_record(record)
    return state


def _level_json(level: LevelState) -> dict[str, Any]:
    data = asdict(level)
    data.pop("paths")
    data.pop("path_set")
    return data


def _node_json(node: NodeState) -> dict[str, Any]:
    data = asdict(node)
    return {key: value for key, value in data.items() if value not in (None, [])}


def _watch_json(watch: WatchMetrics) -> dict[str, Any]:
    data = asdict(watch)
    data["by_change"] = dict(watch.by_change)
    data["recent_changes"] = [list(change) for change in watch.recent_changes[-20:]]
    return data


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


@_on("session_started")
def _session_started(state: SessionState, data: dict[str, Any], ts: str) -> None:
    state.command = data.get("command", state.command)
    args = data.get("args")
    state.args = args if isinstance(args, dict) else {}
    state.workspace = data.get("workspace")
    state.pid = _int(data.get("pid"))
    state.started_ts = ts
    state.status = ACTIVE


@_on("session_ended")
def _session_ended(state: SessionState, data: dict[str, Any], ts: str) -> None:
    status = data.get("status")
    state.status = status if isinstance(status, str) and status in ENDED_STATUSES else "completed"
    state.error = data.get("error") or state.error
    state.duration_ms = _int(data.get("duration_ms"))
    state.ended_ts = ts


@_on("ingest_failed")
def _ingest_failed(state: SessionState, data: dict[str, Any], ts: str) -> None:
    state.status = "failed"
    state.error = data.get("error") or "events could not be stored"
    state.ended_ts = ts


@_on("command_summary")
def _command_summary(state: SessionState, data: dict[str, Any], ts: str) -> None:
    state.summary = dict(data)


# Scanner and watcher


@_on("scan_started")
def _scan_started(state: SessionState, data: dict[str, Any], ts: str) -> None:
    state.scan = ScanMetrics()


@_on("scan_progress", "scan_completed")
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


@_on("watch_started")
def _watch_started(state: SessionState, data: dict[str, Any], ts: str) -> None:
    watch = state.watch
    watch.root = data.get("root")
    watch.debounce_ms = _int(data.get("debounce_ms"))
    watch.generate = bool(data.get("generate"))


@_on("file_changed")
def _file_changed(state: SessionState, data: dict[str, Any], ts: str) -> None:
    watch = state.watch
    change = str(data.get("change", "modified"))
    watch.changes += 1
    watch.by_change[change] += 1
    watch.recent_changes.append((str(data.get("path", "?")), change))
    if len(watch.recent_changes) > RECENT_CHANGES_KEPT:
        del watch.recent_changes[: RECENT_CHANGES_KEPT // 2]


@_on("batch_processed")
def _batch_processed(state: SessionState, data: dict[str, Any], ts: str) -> None:
    watch = state.watch
    watch.batches += 1
    watch.nodes_updated += _int(data.get("nodes_updated")) or 0
    watch.root_id = data.get("root_id", watch.root_id)


@_on("watch_stopped")
def _watch_stopped(state: SessionState, data: dict[str, Any], ts: str) -> None:
    state.watch.stopped_reason = data.get("reason")


# Context generate and orchestrator


@_on("plan_constructed")
def _plan_constructed(state: SessionState, data: dict[str, Any], ts: str) -> None:
    state.plan = dict(data)
    state.total_nodes = _int(data.get("total_nodes")) or 0
    state.total_levels = _int(data.get("total_levels")) or 0


@_on("descendant_check_started", "descendant_check_passed", "descendant_check_failed")
def _descendant_check(state: SessionState, data: dict[str, Any], ts: str) -> None:
    state.descendant_check = dict(data)


@_on("generation_started")
def _generation_started(state: SessionState, data: dict[str, Any], ts: str) -> None:
    state.generation_status = "running"
    state.total_levels = _int(data.get("total_levels")) or state.total_levels
    state.total_nodes = _int(data.get("total_nodes")) or state.total_nodes


@_on("generation_completed")
def _generation_completed(state: SessionState, data: dict[str, Any], ts: str) -> None:
    state.generation_status = "completed"


@_on("generation_failed")
def _generation_failed(state: SessionState, data: dict[str, Any], ts: str) -> None:
    state.generation_status = "failed"
    state.generation_reason = data.get("reason")


@_on("level_started")
def _level_started(state: SessionState, data: dict[str, Any], ts: str) -> None:
    index = _int(data.get("level_index")) or 0
    level = state.levels.setdefault(index, LevelState(index=index))
    level.node_count = _int(data.get("node_count")) or 0
    level.status = "running"
    level.started_ts = ts
    state.current_level = index
    state.total_levels = _int(data.get("total_levels")) or state.total_levels


@_on("level_completed")
def _level_completed(state: SessionState, data: dict[str, Any], ts: str) -> None:
    index = _int(data.get("level_index")) or 0
    level = state.levels.setdefault(index, LevelState(index=index))
    level.completed_count = _int(data.get("completed_count")) or 0
    level.failed_count = _int(data.get("failed_count")) or 0
    level.node_count = _int(data.get("node_count")) or level.node_count
    level.duration_ms = _int(data.get("duration_ms"))
    level.status = "failed" if level.failed_count else "completed"


@_on("node_generation_started")
def _node_started(state: SessionState, data: dict[str, Any], ts: str) -> None:
    node = _node_for(state, data)
    if node is None:
        return
    node.started_ts = ts
    node.error = None
    if node.level_index is not None:
        level = state.levels.setdefault(node.level_index, LevelState(index=node.level_index))
        level.add_path(node.path)
    if node.status in (PENDING, *_FINAL_NODE_STATUSES):
        state.set_node_status(node, QUEUED)


@_on("node_generation_completed")
def _node_completed(state: SessionState, data: dict[str, Any], ts: str) -> None:
    node = _node_for(state, data)
    if node is None:
        return
    node.frame_id = data.get("frame_id", node.frame_id)
    node.duration_ms = _int(data.get("duration_ms"))
    node.finished_ts = ts
    state.set_node_status(node, COMPLETED)


@_on("node_generation_failed")
def _node_failed(state: SessionState, data: dict[str, Any], ts: str) -> None:
    node = _node_for(state, data)
    if node is None:
        return
    node.error = str(data.get("error") or "failed")
    node.duration_ms = _int(data.get("duration_ms"))
    node.finished_ts = ts
    state.set_node_status(node, FAILED)


@_on("node_skipped")
def _node_skipped(state: SessionState, data: dict[str, Any], ts: str) -> None:
    node = _node_for(state, data)
    if node is None:
        return
    node.skip_reason = data.get("reason")
    state.set_node_status(node, SKIPPED)


# Queue and provider


@_on("request_enqueued")
def _request_enqueued(state: SessionState, data: dict[str, Any], ts: str) -> None:
    node = _node_for(state, data)
    if node is not None and node.status == PENDING:
        state.set_node_status(node, QUEUED)


@_on("request_processing")
def _request_processing(state: SessionState, data: dict[str, Any], ts: str) -> None:
    node = _node_for(state, data)
    if node is None:
        return
    node.attempt = _int(data.get("attempt")) or node.attempt + 1
    if node.queue_wait_ms is None:
        node.queue_wait_ms = _int(data.get("queue_wait_ms"))
    state.set_node_status(node, SENDING)


@_on("provider_request_sent")
def _provider_sent(state: SessionState, data: dict[str, Any], ts: str) -> None:
    state.provider.requests += 1
    node = _node_for(state, data)
    if node is None:
        return
    node.attempt = _int(data.get("attempt")) or node.attempt
    node.sent_ts = ts
    state.set_node_status(node, WAITING)


@_on("provider_response_received")
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
    node.attempt_ms.append(latency)
    node.input_tokens = _int(data.get("input_tokens"))
    node.output_tokens = _int(data.get("output_tokens"))
    node.sent_ts = None
    node.error = None
    state.set_node_status(node, COMPLETED)


@_on("provider_request_failed")
def _provider_failed(state: SessionState, data: dict[str, Any], ts: str) -> None:
    state.provider.failures += 1
    node = _node_for(state, data)
    if node is None:
        return
    latency = _int(data.get("duration_ms")) or 0
    node.provider_ms += latency
    node.attempt_ms.append(latency)
    node.error = str(data.get("error") or "provider request failed")
    node.error_kind = data.get("error_kind")
    node.status_code = _int(data.get("status_code"))
    node.sent_ts = None
    if not data.get("retryable"):
        state.set_node_status(node, FAILED)


@_on("provider_request_retrying")
def _provider_retrying(state: SessionState, data: dict[str, Any], ts: str) -> None:
    state.provider.retries += 1
    node = _node_for(state, data)
    if node is None:
        return
    attempt = _int(data.get("attempt")) or node.attempt + 1
    node.retries.append(
        RetryInfo(attempt=attempt, delay_ms=_int(data.get("delay_ms")) or 0,
                  error=str(data.get("error") or ""))
    )
    state.set_node_status(node, RETRYING)


@_on("queue_stats")
def _queue_stats(state: SessionState, data: dict[str, Any], ts: str) -> None:
    state.queue = {key: value for key, value in data.items() if isinstance(value, int)}
