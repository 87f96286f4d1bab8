"""Attribute names and values of exported spans: the one home of the trace mapping's vocabulary.

Names follow the OpenTelemetry GenAI semantic conventions (`gen_ai.*`, `error.type`) with
OpenInference span kinds beside them, and `ctree.*` for the rest. Only identities, counts and
outcomes are exported — never prompt or response text — and every string that could carry a
credential (an error message, an argument) is scrubbed first.
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Mapping, Sequence
from functools import lru_cache

import msgspec

from contextree.secrets import redact_registered, scrub_text

AttributeScalar = str | bool | int | float
AttributeValue = AttributeScalar | Sequence[AttributeScalar]
"""A scalar, or a homogeneous list of scalars (OTLP's `ArrayValue`)."""
Attributes = dict[str, AttributeValue]

SPAN_KIND_INTERNAL, SPAN_KIND_CLIENT = "internal", "client"
STATUS_UNSET, STATUS_OK, STATUS_ERROR = "unset", "ok", "error"
CHAIN, AGENT, LLM = "CHAIN", "AGENT", "LLM"
"""OpenInference span kinds (`openinference.span.kind`)."""
PROJECT_ATTRIBUTE = "openinference.project.name"
"""The resource attribute Arize Phoenix files traces under (it ignores `service.name`; without
it every trace lands in its `default` project)."""

TOKEN_FIELDS = frozenset({"input_tokens", "output_tokens"})
"""Counts that live on LLM spans only: a parent repeating them is counted twice by backends."""

_SKIPPED_EVENT_FIELDS = frozenset({"plan_id", "request_id", "error", "missing_paths"})
_json = msgspec.json.Encoder()


@lru_cache(maxsize=8192)
def scrub(text: str) -> str:
    """`text` without registered secrets, bearer/basic credentials or URL passwords (cached:
    a session repeats the same paths in many events)."""
    return redact_registered(scrub_text(text))


def root_attributes(session_id: str, data: Mapping[str, object]) -> Attributes:
    """The root span's attributes, from `session_started`."""
    return {
        "session.id": session_id,
        "openinference.span.kind": CHAIN,
        "ctree.command": str(data.get("command", "")),
        "ctree.args": scrub(_json.encode(data.get("args", {})).decode()),
        "ctree.workspace": scrub(str(data.get("workspace", ""))),
        "ctree.version": str(data.get("version", "")),
        "process.pid": _int(data.get("pid")),
    }


def summary_attributes(data: Mapping[str, object]) -> Attributes:
    """`command_summary` counts for the root span, without token counts (LLM spans carry them)."""
    out: Attributes = {}
    for name, value in data.items():
        if name in TOKEN_FIELDS or name in ("command", "duration_ms"):
            continue
        if isinstance(value, bool | int | float):
            out[f"ctree.summary.{name}"] = value
    if isinstance(data.get("error"), str):
        out["ctree.summary.error"] = scrub(str(data["error"]))
    return out


def chat_attributes(data: Mapping[str, object]) -> Attributes:
    """A provider request's CLIENT span, from its first `provider_request_sent`."""
    provider_type = str(data.get("provider_type", ""))
    return {
        "openinference.span.kind": LLM,
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": provider_type,
        "gen_ai.request.model": str(data.get("model", "")),
        "ctree.provider_name": str(data.get("provider_name", "")),
        "ctree.request_id": str(data.get("request_id", "")),
        "ctree.node_id": str(data.get("node_id", "")),
        "ctree.path": scrub(str(data.get("path", ""))),
    }


def event_attributes(data: Mapping[str, object]) -> Attributes:
    """A span event's attributes: the event's scalar fields (token counts and lists left out),
    with `error.type` and a scrubbed `exception.message` for failures."""
    out: Attributes = {}
    for name, value in data.items():
        if name in _SKIPPED_EVENT_FIELDS or name in TOKEN_FIELDS:
            continue
        if isinstance(value, str):
            out[f"ctree.{name}"] = scrub(value) if name == "path" else value
        elif isinstance(value, bool | int | float):
            out[f"ctree.{name}"] = value
    if "error_kind" in data:
        out["error.type"] = str(data["error_kind"])
    if isinstance(data.get("error"), str):
        out["exception.message"] = scrub(str(data["error"]))
    return out


_second_cache: dict[str, int] = {}


def ts_to_ns(ts: str) -> int:
    """An event timestamp (`YYYY-MM-DDTHH:MM:SS.mmmZ`) as nanoseconds since the epoch; the
    seconds part is cached, since consecutive events share it."""
    prefix = ts[:19]
    seconds = _second_cache.get(prefix)
    if seconds is None:
        try:
            seconds = calendar.timegm(time.strptime(prefix, "%Y-%m-%dT%H:%M:%S"))
        except ValueError:
            return 0
        if len(_second_cache) > 4096:
            _second_cache.clear()
        _second_cache[prefix] = seconds
    millis = ts[20:23]
    return (seconds * 1000 + (int(millis) if millis.isdigit() else 0)) * 1_000_000


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
