"""The session state model: what the TUI, replay and the CLI know about one session.

`SessionState` is built by the reducer (`contextree.progress.reducer`), which folds a
session's events into it in order. It holds the session's status, the plan's levels, every
node's status (pending → queued → sending → waiting → completed, or retrying / failed /
skipped) with its error and timing, counts, scan and watch metrics, queue statistics and
provider timing. Nodes are keyed by their workspace-relative path.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from contextree.progress.catalog import EventType
from contextree.progress.session import ACTIVE
from contextree.progress.session import CANCELLED as CANCELLED
from contextree.progress.session import COMPLETED as COMPLETED
from contextree.progress.session import FAILED as FAILED

# COMPLETED, FAILED and CANCELLED come from session.py: a node, a level and a generation
# end with the same words as a session.
PENDING, QUEUED, SENDING, WAITING = "pending", "queued", "sending", "waiting"
RETRYING, SKIPPED = "retrying", "skipped"
RUNNING = "running"
"""A level or a generation under way (nodes never are: they are queued, sending, …). A
cancelled generation, its running level and its nodes in flight end as `cancelled`."""
NODE_STATUSES = (PENDING, QUEUED, SENDING, WAITING, RETRYING, COMPLETED, FAILED, SKIPPED,
                 CANCELLED)
IN_FLIGHT_NODE_STATUSES = frozenset({QUEUED, SENDING, WAITING, RETRYING})
FINAL_NODE_STATUSES = frozenset({COMPLETED, FAILED, SKIPPED, CANCELLED})
RECENT_CHANGES_KEPT = 200


@dataclass
class RetryInfo:
    """One failed attempt that will be retried, and the backoff before the next."""

    attempt: int
    delay_ms: int
    error: str
    ts: str | None = None
    """When the retry was scheduled: the next attempt is due `delay_ms` after it."""


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
    retries: tuple[RetryInfo, ...] = ()
    """Tuples, not lists: a state holds one node per file of the tree, and an empty tuple
    (or one of numbers) is nothing the garbage collector has to walk."""
    queue_wait_ms: int | None = None
    provider_ms: int = 0
    attempt_ms: tuple[int, ...] = ()
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


@dataclass(frozen=True)
class NodeCounts:
    """A session's node totals as its summary events state them (None where not stated)."""

    done: int | None = None
    failed: int | None = None


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
            "scan": asdict(self.scan) if self.event_types[EventType.SCAN_STARTED] else None,
            "watch": _watch_json(self.watch) if self.event_types[EventType.WATCH_STARTED] else None,
            "queue": self.queue or None,
            "provider": asdict(self.provider) if self.provider.requests else None,
            "summary": self.summary or None,
        }


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
