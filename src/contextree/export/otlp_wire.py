"""Span records as OTLP protobuf bytes, encoded by hand (no protobuf runtime, no SDK).

`encode_request` writes one `ExportTraceServiceRequest` — a resource, a scope, the spans —
in the layout of opentelemetry-proto's `trace.proto`, field by field as the SDK's encoder
fills them (same flags, always a status, arrays as `ArrayValue`). Attribute fields made of a
key and a string repeat across spans, so their bytes are cached; everything else is a few
byte concatenations per field.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence

from contextree.export.mapping import (
    SPAN_KIND_CLIENT,
    STATUS_ERROR,
    STATUS_OK,
    STATUS_UNSET,
    AttributeValue,
)
from contextree.export.spans import SpanEvent, SpanRecord

SPAN_KIND_INTERNAL_CODE, SPAN_KIND_CLIENT_CODE = 1, 3
STATUS_CODE_UNSET, STATUS_CODE_OK, STATUS_CODE_ERROR = 0, 1, 2
SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE = 0x100
"""The SDK's span flags: "is the parent remote" is known (and it never is here)."""

_INT64_MIN, _INT64_MAX, _UINT64_MASK = -(1 << 63), (1 << 63) - 1, (1 << 64) - 1
_CACHE_LIMIT = 65_536
_STATUS_CODES = {STATUS_OK: STATUS_CODE_OK, STATUS_ERROR: STATUS_CODE_ERROR}

# Field tags (field number << 3 | wire type: 0 varint, 1 fixed64, 2 bytes, 5 fixed32).
_REQUEST_RESOURCE_SPANS = b"\x0a"
_RESOURCE_SPANS_RESOURCE, _RESOURCE_SPANS_SCOPE_SPANS = b"\x0a", b"\x12"
_RESOURCE_ATTRIBUTE = b"\x0a"
_SCOPE_SPANS_SCOPE, _SCOPE_SPANS_SPAN = b"\x0a", b"\x12"
_SCOPE_NAME, _SCOPE_VERSION = b"\x0a", b"\x12"
_SPAN_TRACE_ID, _SPAN_ID, _SPAN_PARENT_ID = b"\x0a\x10", b"\x12\x08", b"\x22\x08"
_SPAN_NAME = b"\x2a"
_SPAN_KIND, _SPAN_START_TAG, _SPAN_END_TAG = b"\x30", 0x39, 0x41
_SPAN_ATTRIBUTE, _SPAN_EVENT, _SPAN_STATUS = b"\x4a", b"\x5a", b"\x7a"
_SPAN_FLAGS = b"\x85\x01" + struct.pack("<I", SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE)
_EVENT_TIME, _EVENT_NAME, _EVENT_ATTRIBUTE = b"\x09", b"\x12", b"\x1a"
_STATUS_MESSAGE, _STATUS_CODE = b"\x12", b"\x18"
_KEY, _VALUE = b"\x0a", b"\x12"
_STRING, _BOOL_TRUE, _BOOL_FALSE, _INT, _DOUBLE, _ARRAY = (
    b"\x0a", b"\x10\x01", b"\x10\x00", b"\x18", b"\x21", b"\x2a")
_ARRAY_VALUE = b"\x0a"

_pack_fixed64 = struct.Struct("<Q").pack
_pack_times = struct.Struct("<BQBQ").pack
_pack_double = struct.Struct("<d").pack
_ONE_BYTE = [bytes((n,)) for n in range(0x80)]


def varint(value: int) -> bytes:
    """A non-negative integer as a protobuf base-128 varint."""
    if value < 0x80:
        return _ONE_BYTE[value]
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _field(tag: bytes, payload: bytes) -> bytes:
    return tag + varint(len(payload)) + payload


def _text(value: str) -> bytes:
    return value.encode("utf-8", "replace")  # a lone surrogate becomes "?", not a bad body


def any_value(value: AttributeValue) -> bytes | None:
    """An `AnyValue` message; None for what OTLP cannot carry (an int beyond 64 bits, a list
    holding one), which the SDK leaves out too."""
    if isinstance(value, str):
        return _field(_STRING, _text(value))
    if isinstance(value, bool):
        return _BOOL_TRUE if value else _BOOL_FALSE
    if isinstance(value, int):
        if not _INT64_MIN <= value <= _INT64_MAX:
            return None
        return _INT + varint(value & _UINT64_MASK)
    if isinstance(value, float):
        return _DOUBLE + _pack_double(value)
    items = [any_value(item) for item in value]
    if any(item is None for item in items):
        return None
    return _field(_ARRAY, b"".join(_field(_ARRAY_VALUE, item) for item in items if item))


class AttributeEncoder:
    """Encodes `key: value` attributes as `KeyValue` fields under one tag; a string value's
    bytes are cached with its key (the same few hundred pairs repeat across a session), and
    each key's own bytes once."""

    def __init__(self, tag: bytes) -> None:
        self.tag = tag
        self._cache: dict[tuple[str, str], bytes] = {}
        self._keys: dict[str, bytes] = {}

    def encode(self, attributes: Mapping[str, AttributeValue]) -> list[bytes]:
        cache, out = self._cache, []
        for key, value in attributes.items():
            if type(value) is str:
                encoded = cache.get((key, value))
                if encoded is None:
                    if len(cache) >= _CACHE_LIMIT:
                        cache.clear()
                    encoded = cache[(key, value)] = self._key_value(key, value)
                out.append(encoded)
            else:
                encoded = self._key_value(key, value)
                if encoded:
                    out.append(encoded)
        return out

    def _key_value(self, key: str, value: AttributeValue) -> bytes:
        encoded_value = any_value(value)
        if encoded_value is None:
            return b""
        key_field = self._keys.get(key)
        if key_field is None:
            if len(self._keys) >= _CACHE_LIMIT:
                self._keys.clear()
            key_field = self._keys[key] = _field(_KEY, _text(key)) + _VALUE
        body = key_field + varint(len(encoded_value)) + encoded_value
        return self.tag + varint(len(body)) + body


class TraceEncoder:
    """Encodes batches of span records as `ExportTraceServiceRequest` bodies for one resource
    (its attributes) and one instrumentation scope (name and version)."""

    def __init__(self, resource: Mapping[str, AttributeValue], scope_name: str,
                 scope_version: str) -> None:
        self._span_attributes = AttributeEncoder(_SPAN_ATTRIBUTE)
        self._event_attributes = AttributeEncoder(_EVENT_ATTRIBUTE)
        resource_body = b"".join(AttributeEncoder(_RESOURCE_ATTRIBUTE).encode(resource))
        self._resource = _field(_RESOURCE_SPANS_RESOURCE, resource_body)
        self._scope = _field(_SCOPE_SPANS_SCOPE, _field(_SCOPE_NAME, _text(scope_name))
                             + _field(_SCOPE_VERSION, _text(scope_version)))
        self._trace_ids: dict[int, bytes] = {}
        self._names: dict[str, bytes] = {}

    def encode_request(self, spans: Sequence[SpanRecord]) -> bytes:
        """One request body holding `spans`."""
        scope_spans = self._scope + b"".join([self.encode_span(span) for span in spans])
        resource_spans = self._resource + _field(_RESOURCE_SPANS_SCOPE_SPANS, scope_spans)
        return _field(_REQUEST_RESOURCE_SPANS, resource_spans)

    def encode_span(self, span: SpanRecord) -> bytes:
        """One span as a `ScopeSpans.spans` field."""
        parts = [self._trace_id(span.trace_id), _SPAN_ID, span.span_id.to_bytes(8, "big")]
        if span.parent_span_id is not None:
            parts += (_SPAN_PARENT_ID, span.parent_span_id.to_bytes(8, "big"))
        name = self._names.get(span.name)
        if name is None:
            if len(self._names) >= _CACHE_LIMIT:
                self._names.clear()
            name = self._names[span.name] = _field(_SPAN_NAME, _text(span.name))
        parts.append(name)
        parts.append(_CLIENT_KIND if span.kind == SPAN_KIND_CLIENT else _INTERNAL_KIND)
        parts.append(_pack_times(_SPAN_START_TAG, span.start_ns, _SPAN_END_TAG, span.end_ns))
        parts += self._span_attributes.encode(span.attributes)
        for event in span.events:
            parts.append(self._event(event))
        parts.append(_STATUSES.get(span.status) or _field(_SPAN_STATUS, _status(span)))
        parts.append(_SPAN_FLAGS)
        body = b"".join(parts)
        return _SCOPE_SPANS_SPAN + varint(len(body)) + body

    def _trace_id(self, trace_id: int) -> bytes:
        encoded = self._trace_ids.get(trace_id)
        if encoded is None:
            if len(self._trace_ids) >= _CACHE_LIMIT:
                self._trace_ids.clear()
            encoded = self._trace_ids[trace_id] = _SPAN_TRACE_ID + trace_id.to_bytes(16, "big")
        return encoded

    def _event(self, event: SpanEvent) -> bytes:
        body = (_EVENT_TIME + _pack_fixed64(event.time_ns) + _field(_EVENT_NAME, _text(event.name))
                + b"".join(self._event_attributes.encode(event.attributes)))
        return _field(_SPAN_EVENT, body)


_CLIENT_KIND = _SPAN_KIND + _ONE_BYTE[SPAN_KIND_CLIENT_CODE]
_INTERNAL_KIND = _SPAN_KIND + _ONE_BYTE[SPAN_KIND_INTERNAL_CODE]
_STATUSES = {STATUS_OK: _field(_SPAN_STATUS, _STATUS_CODE + _ONE_BYTE[STATUS_CODE_OK]),
             STATUS_UNSET: _field(_SPAN_STATUS, b"")}
"""Statuses without a message, encoded once (an error's message varies)."""


def _status(span: SpanRecord) -> bytes:
    """The SDK keeps a message on error statuses only; code 0 (unset) is left out."""
    code = _STATUS_CODES.get(span.status, STATUS_CODE_UNSET)
    message = b""
    if code == STATUS_CODE_ERROR and span.status_message:
        message = _field(_STATUS_MESSAGE, _text(span.status_message))
    return message + (_STATUS_CODE + _ONE_BYTE[code] if code else b"")
