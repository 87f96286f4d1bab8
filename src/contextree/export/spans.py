"""A session's events as trace spans, built in one incremental pass (no OpenTelemetry import).

`SpanBuilder.feed(event)` returns the spans that event closes, so the same code serves a
finished session read from the store and the live bridge that tails a running one;
`close_open()` closes what is still open at the last event, marked unfinished. Ids are
deterministic (trace id = the session ULID's 128 bits, span id = 8 bytes of a hash of
`session:seq` of the opening event), so exporting again sends the same spans. The table of
which events open, close and decorate which spans is in the README; `mapping.py` names the
attributes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from contextree.export.mapping import (
    AGENT,
    CHAIN,
    SPAN_KIND_CLIENT,
    SPAN_KIND_INTERNAL,
    STATUS_ERROR,
    STATUS_OK,
    STATUS_UNSET,
    Attributes,
    AttributeValue,
    chat_attributes,
    event_attributes,
    root_attributes,
    scrub,
    summary_attributes,
    ts_to_ns,
)
from contextree.progress.event import Event

MAX_EVENTS_PER_SPAN = 1000
"""Span events kept on one span; the rest are counted in `ctree.span_events_dropped`."""

UNFINISHED_ATTRIBUTE = "ctree.unfinished"


@dataclass(frozen=True, slots=True)
class SpanEvent:
    """A point in time on a span: a retry, a progress report, a file change."""

    name: str
    time_ns: int
    attributes: Attributes


@dataclass(slots=True)
class SpanRecord:
    """One span, independent of any tracing library; ids are integers (128 and 64 bits)."""

    trace_id: int
    span_id: int
    parent_span_id: int | None
    name: str
    kind: str
    start_ns: int
    end_ns: int = 0
    attributes: dict[str, AttributeValue] = field(default_factory=dict)
    events: list[SpanEvent] = field(default_factory=list)
    status: str = STATUS_UNSET
    status_message: str | None = None
    dropped_events: int = 0

    def add_event(self, name: str, time_ns: int, data: Mapping[str, object]) -> None:
        """A span event from an event's data (attributes built only if the span keeps it)."""
        if len(self.events) < MAX_EVENTS_PER_SPAN:
            self.events.append(SpanEvent(name, time_ns, event_attributes(data)))
        else:
            self.dropped_events += 1

    def finish(self, end_ns: int, status: str = STATUS_UNSET, message: str | None = None) -> None:
        self.end_ns = max(end_ns, self.start_ns)
        self.status, self.status_message = status, message
        if self.dropped_events:
            self.attributes["ctree.span_events_dropped"] = self.dropped_events


def trace_id_of(session_id: str) -> int:
    """The session ULID's 128 bits (Crockford base32, 26 characters)."""
    value = 0
    for char in session_id.upper():
        value = (value << 5) | _CROCKFORD.index(char)
    return value & ((1 << 128) - 1)


def span_id_of(session_id: str, seq: int) -> int:
    """8 bytes of a hash of `session:seq`, never zero (zero is OpenTelemetry's invalid id)."""
    digest = hashlib.blake2b(f"{session_id}:{seq}".encode("ascii"), digest_size=8).digest()
    return int.from_bytes(digest, "big") or 1


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class SpanBuilder:
    """Turns one session's events, fed in seq order, into closed spans."""

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id
        self.trace_id = trace_id_of(session_id)
        self.last_ns = 0
        self.last_seq = 0
        self.ended = False
        self._root: SpanRecord | None = None
        self._scan: SpanRecord | None = None
        self._watch: SpanRecord | None = None
        self._generation: SpanRecord | None = None
        self._levels: dict[int, SpanRecord] = {}
        self._nodes: dict[str, SpanRecord] = {}
        self._chats: dict[str, SpanRecord] = {}
        self._chat_failed: set[str] = set()
        self._handlers = {
            "session_started": self._session_started,
            "session_ended": self._session_ended,
            "command_summary": self._command_summary,
            "scan_started": self._scan_started,
            "scan_completed": self._scan_completed,
            "watch_started": self._watch_started,
            "watch_stopped": self._watch_stopped,
            "generation_started": self._generation_started,
            "generation_completed": self._generation_ended,
            "generation_failed": self._generation_ended,
            "level_started": self._level_started,
            "level_completed": self._level_completed,
            "node_generation_started": self._node_started,
            "node_generation_completed": self._node_ended,
            "node_generation_failed": self._node_ended,
            "provider_request_sent": self._request_sent,
            "provider_response_received": self._response_received,
            "provider_request_failed": self._request_failed,
            "provider_request_retrying": self._request_retrying,
        }

    # -- the public pass ------------------------------------------------------------------

    def feed(self, event: Event) -> list[SpanRecord]:
        """Take the next event; return the spans it closed (often none)."""
        time_ns = ts_to_ns(event.ts)
        self.last_ns = max(self.last_ns, time_ns)
        self.last_seq = event.seq
        handler = self._handlers.get(event.type)
        if handler is not None:
            return handler(event, time_ns)
        self._decorate(event, time_ns)
        return []

    def close_open(self) -> list[SpanRecord]:
        """Close every open span at the last event, marked unfinished (a running or
        interrupted session); the root last."""
        spans = [*self._chats.values(), *self._nodes.values(), *self._levels.values()]
        spans += [span for span in (self._generation, self._scan, self._watch, self._root)
                  if span is not None]
        for span in spans:
            span.attributes[UNFINISHED_ATTRIBUTE] = True
            span.finish(self.last_ns)
        self._chats, self._nodes, self._levels = {}, {}, {}
        self._generation = self._scan = self._watch = self._root = None
        return spans

    # -- helpers --------------------------------------------------------------------------

    def _open(self, event: Event, time_ns: int, name: str, parent: SpanRecord | None,
              attributes: dict[str, AttributeValue], kind: str = SPAN_KIND_INTERNAL
              ) -> SpanRecord:
        return SpanRecord(
            trace_id=self.trace_id, span_id=span_id_of(self.session_id, event.seq),
            parent_span_id=parent.span_id if parent is not None else None, name=name,
            kind=kind, start_ns=time_ns, attributes=attributes,
        )

    def _container(self) -> SpanRecord | None:
        return self._generation or self._watch or self._root

    def _decorate(self, event: Event, time_ns: int) -> None:
        """Events that open no span become span events of the span they happen in."""
        span = self._scan if event.type == "scan_progress" else self._container()
        if span is not None:
            span.add_event(event.type, time_ns, event.data)

    @staticmethod
    def _outcome(data: dict[str, object], failed: bool) -> tuple[str, str | None]:
        if not failed:
            return STATUS_OK, None
        reason = data.get("error") or data.get("reason") or "failed"
        return STATUS_ERROR, scrub(str(reason))

    # -- session --------------------------------------------------------------------------

    def _session_started(self, event: Event, time_ns: int) -> list[SpanRecord]:
        command = str(event.data.get("command", "unknown"))
        self._root = self._open(event, time_ns, f"ctree {command.replace('.', ' ')}", None,
                                root_attributes(self.session_id, event.data))
        return []

    def _command_summary(self, event: Event, time_ns: int) -> list[SpanRecord]:
        if self._root is not None:
            self._root.attributes.update(summary_attributes(event.data))
        return []

    def _session_ended(self, event: Event, time_ns: int) -> list[SpanRecord]:
        self.ended = True
        root, self._root = self._root, None
        closed = self.close_open()
        if root is None:
            return closed
        failed = event.data.get("status") != "completed"
        root.attributes["ctree.session.status"] = str(event.data.get("status", "unknown"))
        root.finish(time_ns, *self._outcome(event.data, failed))
        return [*closed, root]

    # -- scan and watch -------------------------------------------------------------------

    def _scan_started(self, event: Event, time_ns: int) -> list[SpanRecord]:
        self._scan = self._open(event, time_ns, "scan", self._container(), {
            "openinference.span.kind": CHAIN, "ctree.scan.root": scrub(str(event.data.get(
                "root", "."))), "ctree.scan.force": bool(event.data.get("force", False)),
        })
        return []

    def _scan_completed(self, event: Event, time_ns: int) -> list[SpanRecord]:
        span, self._scan = self._scan, None
        if span is None:
            return []
        for name in ("node_count", "file_count", "dir_count", "bytes_hashed", "files_rehashed"):
            value = event.data.get(name)
            if isinstance(value, int):
                span.attributes[f"ctree.scan.{name}"] = value
        span.finish(time_ns, STATUS_OK)
        return [span]

    def _watch_started(self, event: Event, time_ns: int) -> list[SpanRecord]:
        self._watch = self._open(event, time_ns, "watch", self._root, {
            "openinference.span.kind": CHAIN,
            "ctree.watch.generate": bool(event.data.get("generate", False)),
        })
        return []

    def _watch_stopped(self, event: Event, time_ns: int) -> list[SpanRecord]:
        span, self._watch = self._watch, None
        if span is None:
            return []
        span.attributes["ctree.watch.stop_reason"] = str(event.data.get("reason", ""))
        span.finish(time_ns, STATUS_OK)
        return [span]

    # -- generation, levels and nodes -----------------------------------------------------

    def _generation_started(self, event: Event, time_ns: int) -> list[SpanRecord]:
        self._generation = self._open(event, time_ns, "generate", self._watch or self._root, {
            "openinference.span.kind": CHAIN,
            "ctree.path": scrub(str(event.data.get("path", "."))),
            "ctree.total_nodes": _int(event.data.get("total_nodes")),
            "ctree.total_levels": _int(event.data.get("total_levels")),
        })
        return []

    def _generation_ended(self, event: Event, time_ns: int) -> list[SpanRecord]:
        span, self._generation = self._generation, None
        if span is None:
            return []
        for name in ("total_generated", "total_failed", "total_skipped"):
            span.attributes[f"ctree.{name}"] = _int(event.data.get(name))
        span.finish(time_ns, *self._outcome(event.data, event.type == "generation_failed"))
        return [span]

    def _level_started(self, event: Event, time_ns: int) -> list[SpanRecord]:
        index = _int(event.data.get("level_index"))
        self._levels[index] = self._open(
            event, time_ns, f"level {index}", self._generation or self._root, {
                "openinference.span.kind": CHAIN, "ctree.level_index": index,
                "ctree.node_count": _int(event.data.get("node_count")),
            })
        return []

    def _level_completed(self, event: Event, time_ns: int) -> list[SpanRecord]:
        span = self._levels.pop(_int(event.data.get("level_index")), None)
        if span is None:
            return []
        completed, failed = _int(event.data.get("completed_count")), _int(
            event.data.get("failed_count"))
        span.attributes.update({"ctree.completed_count": completed,
                                "ctree.failed_count": failed})
        span.finish(time_ns, STATUS_ERROR if failed else STATUS_OK,
                    f"{failed} node(s) failed" if failed else None)
        return [span]

    def _node_started(self, event: Event, time_ns: int) -> list[SpanRecord]:
        agent = str(event.data.get("agent_id", "agent"))
        parent = self._levels.get(_int(event.data.get("level_index"))) or self._container()
        self._nodes[_node_key(event)] = self._open(event, time_ns, f"invoke_agent {agent}",
                                                   parent, {
            "openinference.span.kind": AGENT, "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": agent, "ctree.path": scrub(str(event.data.get("path", ""))),
            "ctree.node_id": str(event.data.get("node_id", "")),
            "ctree.frame_type": str(event.data.get("frame_type", "")),
            "ctree.provider_name": str(event.data.get("provider_name", "")),
        })
        return []

    def _node_ended(self, event: Event, time_ns: int) -> list[SpanRecord]:
        node_id = str(event.data.get("node_id", ""))
        closed = self._close_chats(lambda chat: chat.attributes.get("ctree.node_id") == node_id)
        span = self._nodes.pop(_node_key(event), None)
        if span is None:
            return closed
        failed = event.type == "node_generation_failed"
        if not failed and event.data.get("frame_id"):
            span.attributes["ctree.frame_id"] = str(event.data["frame_id"])
        span.finish(time_ns, *self._outcome(event.data, failed))
        return [*closed, span]

    # -- provider requests ----------------------------------------------------------------

    def _request_sent(self, event: Event, time_ns: int) -> list[SpanRecord]:
        request_id = str(event.data.get("request_id", ""))
        span = self._chats.get(request_id)
        if span is None:
            node = self._nodes.get(_node_key(event))
            span = self._open(event, time_ns, f"chat {event.data.get('model', '')}".strip(),
                              node or self._container(), chat_attributes(event.data),
                              SPAN_KIND_CLIENT)
            self._chats[request_id] = span
        self._chat_failed.discard(request_id)
        span.attributes["ctree.attempts"] = _int(event.data.get("attempt"))
        return []

    def _response_received(self, event: Event, time_ns: int) -> list[SpanRecord]:
        span = self._chats.pop(str(event.data.get("request_id", "")), None)
        if span is None:
            return []
        self._add_usage(span, event.data)
        span.attributes.pop("error.type", None)
        span.finish(time_ns, STATUS_OK)
        return [span]

    def _request_failed(self, event: Event, time_ns: int) -> list[SpanRecord]:
        request_id = str(event.data.get("request_id", ""))
        span = self._chats.get(request_id)
        if span is None:
            return []
        kind = str(event.data.get("error_kind", "other"))
        span.attributes["error.type"] = kind
        span.add_event("attempt_failed", time_ns, event.data)
        span.end_ns = time_ns
        if event.data.get("retryable"):
            self._chat_failed.add(request_id)
            return []
        del self._chats[request_id]
        span.finish(time_ns, STATUS_ERROR, scrub(str(event.data.get("error", kind))))
        return [span]

    def _request_retrying(self, event: Event, time_ns: int) -> list[SpanRecord]:
        span = self._chats.get(str(event.data.get("request_id", "")))
        if span is not None:
            span.add_event("retry", time_ns, event.data)
        return []

    def _close_chats(self, matches: ChatFilter) -> list[SpanRecord]:
        """Close chat spans whose outcome the queue will not report (the node ended)."""
        closed = []
        for request_id, span in list(self._chats.items()):
            if matches(span):
                del self._chats[request_id]
                failed = request_id in self._chat_failed or "error.type" in span.attributes
                span.finish(span.end_ns or span.start_ns, STATUS_ERROR if failed else STATUS_UNSET)
                closed.append(span)
        return closed

    @staticmethod
    def _add_usage(span: SpanRecord, data: dict[str, object]) -> None:
        model = data.get("response_model") or data.get("model")
        if model:
            span.attributes["gen_ai.response.model"] = str(model)
        input_tokens, output_tokens = data.get("input_tokens"), data.get("output_tokens")
        if isinstance(input_tokens, int):
            span.attributes["gen_ai.usage.input_tokens"] = input_tokens
        if isinstance(output_tokens, int):
            span.attributes["gen_ai.usage.output_tokens"] = output_tokens


ChatFilter = Callable[[SpanRecord], bool]


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _node_key(event: Event) -> str:
    return f"{event.data.get('node_id', '')}\0{event.data.get('frame_type', '')}"
