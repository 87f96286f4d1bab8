"""Compare two generating sessions node by node, matched by path (and node id).

Each side's final state is replayed from its stored events; a node's outcome on each side
(generated, up to date, skipped, failed, absent), whether its file and its content changed, its
provider and model, and the deltas of tokens, provider latency, queue wait and retries make a
`NodeDiff`; `SessionDiff.summary` totals them.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from contextree.errors import SessionNotFoundError, UsageError
from contextree.progress.reducer import replay
from contextree.progress.session import SessionRecord
from contextree.progress.state import COMPLETED, SKIPPED, NodeState, SessionState
from contextree.progress.store import EventStore

GENERATE_COMMAND, WATCH_COMMAND = "context.generate", "watch"
DIFFABLE_COMMANDS = (GENERATE_COMMAND, WATCH_COMMAND)
"""The commands whose sessions generate frames (a watch only with `--generate`)."""
WATCH_GENERATES = "generate"
"""The watch session's argument that says it generates."""
DELTAS = ("tokens", "provider_ms", "queue_wait_ms", "retries")
"""What is compared in figures, per node and in total (`NodeSide` fields)."""
GENERATED, UP_TO_DATE, ABSENT = "generated", "up to date", "absent"
REUSE_REASONS = frozenset({"head_reuse"})
"""Skip reasons that mean the node's frame is already current."""
SLOWEST_SHOWN = 5
_LAST = re.compile(r"^last(?:~(\d+))?$")


@dataclass(frozen=True)
class NodeSide:
    """One node as one session left it."""

    outcome: str
    node_id: str | None = None
    frame_id: str | None = None
    provider: str | None = None
    model: str | None = None
    tokens: int = 0
    provider_ms: int = 0
    queue_wait_ms: int = 0
    retries: int = 0


ABSENT_SIDE = NodeSide(ABSENT)


@dataclass(frozen=True)
class NodeDiff:
    """One path in both sessions."""

    path: str
    a: NodeSide
    b: NodeSide

    @property
    def file_changed(self) -> bool:
        return None not in (self.a.node_id, self.b.node_id) and self.a.node_id != self.b.node_id

    @property
    def content_changed(self) -> bool:
        return self.b.outcome == GENERATED and self.a.frame_id != self.b.frame_id

    @property
    def provider_changed(self) -> bool:
        both = ABSENT not in (self.a.outcome, self.b.outcome)
        generated = self.a.provider is not None and self.b.provider is not None
        return both and generated and (self.a.provider, self.a.model) != (self.b.provider,
                                                                          self.b.model)

    @property
    def differs(self) -> bool:
        return (self.a.outcome != self.b.outcome or self.file_changed or self.content_changed
                or self.provider_changed)

    @property
    def change(self) -> str:
        """`generated → up to date`: the outcome in A, then in B."""
        return f"{self.a.outcome} → {self.b.outcome}"

    def deltas(self) -> dict[str, int]:
        """B's figure minus A's, for each of `DELTAS`."""
        return {name: getattr(self.b, name) - getattr(self.a, name) for name in DELTAS}

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "a": asdict(self.a), "b": asdict(self.b),
                "file_changed": self.file_changed, "content_changed": self.content_changed,
                "provider_changed": self.provider_changed, "deltas": self.deltas()}


@dataclass
class SessionDiff:
    """Two sessions compared: every path either of them touched, sorted."""

    a_id: str
    b_id: str
    a_duration_ms: int | None
    b_duration_ms: int | None
    nodes: list[NodeDiff] = field(default_factory=list)

    def differing(self) -> list[NodeDiff]:
        return [node for node in self.nodes if node.differs]

    def summary(self) -> dict[str, Any]:
        changes = Counter(n.change for n in self.differing() if n.a.outcome != n.b.outcome)
        slowest = sorted((n for n in self.nodes if n.deltas()["provider_ms"] > 0),
                         key=lambda n: -n.deltas()["provider_ms"])[:SLOWEST_SHOWN]
        return {
            "a": self.a_id, "b": self.b_id, "nodes": len(self.nodes),
            "differing": len(self.differing()), "outcome_changes": dict(sorted(changes.items())),
            "content_changed": sum(n.content_changed for n in self.nodes),
            **{name: {"a": sum(getattr(n.a, name) for n in self.nodes),
                      "b": sum(getattr(n.b, name) for n in self.nodes)} for name in DELTAS},
            "duration_ms": {"a": self.a_duration_ms, "b": self.b_duration_ms},
            "slowest_regressions": [{"path": n.path, "provider_ms": n.deltas()["provider_ms"]}
                                    for n in slowest],
        }


def node_side(node: NodeState) -> NodeSide:
    return NodeSide(
        outcome=_outcome(node), node_id=node.node_id, frame_id=node.frame_id,
        provider=node.provider_name, model=node.model,
        tokens=(node.input_tokens or 0) + (node.output_tokens or 0),
        provider_ms=node.provider_ms, queue_wait_ms=node.queue_wait_ms or 0,
        retries=len(node.retries),
    )


def _outcome(node: NodeState) -> str:
    if node.status == COMPLETED:
        return GENERATED
    if node.status == SKIPPED:
        return UP_TO_DATE if node.skip_reason in REUSE_REASONS else SKIPPED
    return node.status


def diff_states(a: SessionState, b: SessionState) -> SessionDiff:
    """Compare two replayed sessions node by node."""
    result = SessionDiff(a.session_id or "?", b.session_id or "?", a.duration_ms, b.duration_ms)
    for path in sorted(a.nodes.keys() | b.nodes.keys()):
        a_node, b_node = a.nodes.get(path), b.nodes.get(path)
        result.nodes.append(NodeDiff(path, node_side(a_node) if a_node else ABSENT_SIDE,
                                     node_side(b_node) if b_node else ABSENT_SIDE))
    return result


def is_generating(record: SessionRecord) -> bool:
    """Whether the session generates frames: `context generate`, or `watch --generate`."""
    if record.command == WATCH_COMMAND:
        return bool(record.args.get(WATCH_GENERATES))
    return record.command == GENERATE_COMMAND


def resolve_diff_ref(store: EventStore, ref: str) -> str:
    """An id, a unique prefix, `last` or `last~N` (the N-th generating session before the
    newest) as the id of a generating session."""
    found = _LAST.match(ref.strip())
    if found is None:
        session_id = store.resolve_session_id(ref)
        record = store.get_session(session_id)
        if record is not None and not is_generating(record):
            raise UsageError(f"session {session_id} is a `{record.command}` session: only "
                             "`context generate` and `watch --generate` sessions are compared")
        return session_id
    back = int(found.group(1) or 0)
    generating = [record for command in DIFFABLE_COMMANDS
                  for record in store.list_sessions(
                      command=command, limit=back + 1 if command == GENERATE_COMMAND else None)
                  if is_generating(record)]
    generating.sort(key=lambda record: record.session_id, reverse=True)
    if len(generating) <= back:
        raise SessionNotFoundError(f"{ref!r}: there are only {len(generating)} generating "
                                   "sessions", reason=SessionNotFoundError.NO_MATCH)
    return generating[back].session_id


def diff_sessions(store: EventStore, a_ref: str, b_ref: str) -> SessionDiff:
    """Replay both sessions (streamed from the store) and compare them."""
    states = []
    for ref in (a_ref, b_ref):
        session_id = resolve_diff_ref(store, ref)
        states.append(replay(store.iter_events(session_id)))
    return diff_states(states[0], states[1])
