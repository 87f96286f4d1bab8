"""Which rows the activity list shows, and in what order: work in flight first, then failures.

Plain functions over the state model (no Textual). `arrange` filters a level's paths by a path
query and by failure, then orders them by status (sending, waiting, retrying, queued, then
failed, then done), by path, or by duration (longest first, the running ones by elapsed time).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from contextree.progress.state import (
    CANCELLED,
    COMPLETED,
    FAILED,
    PENDING,
    QUEUED,
    RETRYING,
    SENDING,
    SKIPPED,
    WAITING,
    NodeState,
)
from contextree.tui.format import ts_epoch

BY_STATUS, BY_PATH, BY_DURATION = "status", "path", "duration"
ORDERS = (BY_STATUS, BY_PATH, BY_DURATION)
STATUS_RANK = {SENDING: 0, WAITING: 0, RETRYING: 0, QUEUED: 1, PENDING: 2, FAILED: 3,
               CANCELLED: 3, COMPLETED: 4, SKIPPED: 4}
"""In-flight work first, then what waits its turn, then failures, then what is done."""
RANKS = max(STATUS_RANK.values()) + 1


@dataclass(frozen=True)
class RowChoice:
    """How the user asked to see a level: the order, a path filter, failures only."""

    order: str = BY_STATUS
    query: str = ""
    failures_only: bool = False

    def next_order(self) -> RowChoice:
        following = ORDERS[(ORDERS.index(self.order) + 1) % len(ORDERS)]
        return RowChoice(following, self.query, self.failures_only)

    def describe(self) -> str:
        """`by status · failures only · “src/”` for the list's title."""
        parts = [f"by {self.order}"]
        if self.failures_only:
            parts.append("failures only")
        if self.query:
            parts.append(f"“{self.query}”")
        return " · ".join(parts)


def arrange(paths: Sequence[str], nodes: Mapping[str, NodeState], choice: RowChoice,
            now_s: float) -> list[str]:
    """The rows to show for `paths`, filtered and ordered as `choice` says."""
    rows = _filtered(paths, nodes, choice)
    if choice.order == BY_PATH:
        return sorted(rows)
    if choice.order == BY_DURATION:
        return sorted(rows, key=lambda path: -_duration_ms(nodes.get(path), now_s))
    buckets: list[list[str]] = [[] for _ in range(RANKS)]
    for path in rows:
        node = nodes.get(path)
        buckets[STATUS_RANK.get(node.status, 2) if node is not None else 2].append(path)
    return [path for bucket in buckets for path in bucket]


def _filtered(paths: Sequence[str], nodes: Mapping[str, NodeState],
              choice: RowChoice) -> Sequence[str]:
    if not (choice.query or choice.failures_only):
        return paths
    query = choice.query.lower()
    rows = [path for path in paths if query in path.lower()] if query else paths
    if choice.failures_only:
        rows = [path for path in rows if (node := nodes.get(path)) is not None
                and node.status == FAILED]
    return rows


def _duration_ms(node: NodeState | None, now_s: float) -> float:
    if node is None:
        return -1.0
    if node.duration_ms is not None:
        return float(node.duration_ms)
    started = ts_epoch(node.started_ts)
    return (now_s - started) * 1000 if started is not None else -1.0
