"""Events: the schema, the JSON codec, timestamps, store keys and the event catalog.

An event is one JSON object `{"ts", "session", "seq", "type", "data"}`. `ts` is taken when the
event is emitted (UTC, milliseconds, `Z`, 24 characters); `seq` is assigned by the ingestor.
The payload is encoded at emit time, so a bad payload fails at the call site and a stored event
is exactly what was emitted. Readers ignore unknown types and fields; the catalog
(`contextree.progress.catalog`) is the one source of truth for the types and their required
fields (names are append-only).
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

import msgspec

from contextree.errors import EventError
from contextree.progress.catalog import EVENT_CATALOG
from contextree.secrets import has_registered_secrets, scrub_payload

log = logging.getLogger(__name__)

SEQ_DIGITS = 20
MAX_PAYLOAD_BYTES = 1 << 20
"""The largest encoded `data` object one event may carry (1 MiB)."""
MAX_PAYLOAD_DEPTH = 64
"""The deepest nesting of objects and arrays one event's `data` may hold."""

_TYPE_NAME = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
_TS_FORMAT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


class Event(msgspec.Struct, frozen=True, gc=False):
    """One stored event. Unknown fields in stored JSON are ignored on decode.

    `gc=False`: a frozen event decoded from JSON cannot be part of a reference cycle, so the
    garbage collector need not track it (decoding 200k events no longer triggers full
    collections).
    """

    ts: str
    session: str
    seq: int
    type: str
    data: dict[str, Any] = msgspec.field(default_factory=dict)


_encoder = msgspec.json.Encoder()
_event_decoder = msgspec.json.Decoder(Event)

_valid_type_names: set[str] = set(EVENT_CATALOG)


def check_type_name(event_type: str) -> None:
    """Raise `EventError` unless `event_type` is a snake_case name."""
    if event_type in _valid_type_names:
        return
    if not isinstance(event_type, str) or not _TYPE_NAME.match(event_type):
        raise EventError(
            f"event type {event_type!r} is not snake_case — use names like 'scan_started'"
        )
    _valid_type_names.add(event_type)


def encode_payload(data: Mapping[str, Any] | None) -> bytes:
    """Encode an event's `data` object, raising `EventError` if it is not JSON, nested deeper
    than `MAX_PAYLOAD_DEPTH`, holds a NaN or infinity, or is too large. Lone surrogates are
    replaced (`without_surrogates`); keys must be strings or numbers."""
    if data is None:
        return b"{}"
    try:
        try:
            payload = _encoder.encode(data)
        except UnicodeEncodeError:
            payload = _encoder.encode(without_surrogates(data))
    except RecursionError:
        raise _too_deep() from None
    except (TypeError, msgspec.EncodeError, OverflowError) as exc:
        raise EventError(
            f"event data is not JSON-serialisable: {exc} — pass dicts, lists, str and numbers"
        ) from exc
    if payload[:1] != b"{":
        raise EventError("event data must be a JSON object (a dict)")
    check_payload_shape(data, payload)
    if has_registered_secrets():
        payload = scrub_payload(payload)
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise EventError(
            f"event data is {len(payload)} bytes, over the {MAX_PAYLOAD_BYTES}-byte limit — "
            "store large content in frames, not events"
        )
    return payload


def check_payload_shape(data: Mapping[str, Any], payload: bytes) -> None:
    """Raise `EventError` if `data` (encoded as `payload`) nests deeper than
    `MAX_PAYLOAD_DEPTH` or holds a non-finite number (JSON has none: it would turn into
    null). Cheap for the usual event: the walk runs only when the bytes allow either (a
    null, or a long payload with more brackets than the limit)."""
    if b"null" in payload or (
        len(payload) > _SHALLOW_BYTES
        and payload.count(b"{") + payload.count(b"[") > MAX_PAYLOAD_DEPTH
    ):
        _walk(data, 1)


_SHALLOW_BYTES = 2 * MAX_PAYLOAD_DEPTH
"""No shorter payload can nest deeper than the limit (each level costs two brackets)."""


def _walk(value: Any, depth: int) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise EventError(f"event data holds {value!r}, which JSON cannot carry "
                         "— pass a finite number or None")
    if isinstance(value, Mapping | list | tuple):
        if depth > MAX_PAYLOAD_DEPTH:
            raise _too_deep()
        for item in value.values() if isinstance(value, Mapping) else value:
            _walk(item, depth + 1)


def _too_deep() -> EventError:
    return EventError(f"event data is nested deeper than {MAX_PAYLOAD_DEPTH} levels "
                      "— flatten it")


def check_text(text: str, what: str) -> str:
    """`text`, or `EventError` if it holds a lone surrogate (not encodable as UTF-8)."""
    if _SURROGATE.search(text):
        raise EventError(f"{what} {text.encode('utf-8', 'backslashreplace').decode()!r} holds "
                         "a lone surrogate (bytes that are not UTF-8) — use valid text")
    return text


_SURROGATE = re.compile("[\ud800-\udfff]")


def without_surrogates(value: Any) -> Any:
    """`value` with every lone surrogate in its text replaced by U+FFFD.

    Text decoded from bytes that are not UTF-8 (a file name, a command-line argument) holds
    lone surrogates, which JSON cannot carry; the event keeps the rest of the text.
    """
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, Mapping):
        return {without_surrogates(key): without_surrogates(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [without_surrogates(item) for item in value]
    return value


_ts_cache_second = -1
_ts_cache_prefix = ""


def format_ts(epoch_s: float) -> str:
    """Format seconds since the epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC, 24 characters)."""
    global _ts_cache_second, _ts_cache_prefix
    second = int(epoch_s)
    millis = int((epoch_s - second) * 1000)
    if second != _ts_cache_second:
        _ts_cache_prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        _ts_cache_second = second
    return f"{_ts_cache_prefix}.{millis:03d}Z"


def now_ts() -> str:
    """The current time as an event timestamp."""
    return format_ts(time.time())


def parse_ts(ts: str) -> float:
    """Parse an event timestamp back to seconds since the epoch."""
    if not is_valid_ts(ts):
        raise ValueError(f"not an event timestamp: {ts!r}")
    return datetime.fromisoformat(ts).timestamp()


def is_valid_ts(ts: object) -> bool:
    """True if `ts` has the exact event timestamp form."""
    return isinstance(ts, str) and len(ts) == 24 and _TS_FORMAT.match(ts) is not None


def event_key(session_id: str, seq: int) -> bytes:
    """The `obs_events` key: session id, a colon, seq zero-padded to 20 digits."""
    return f"{session_id}:{seq:0{SEQ_DIGITS}d}".encode("ascii")


def session_prefix(session_id: str) -> bytes:
    """The common prefix of every `obs_events` key of one session."""
    return f"{session_id}:".encode("ascii")


def split_event_key(key: bytes) -> tuple[str, int]:
    """Invert `event_key`."""
    session_id, _, seq = key.decode("ascii").rpartition(":")
    if not session_id or len(seq) != SEQ_DIGITS or not seq.isdigit():
        raise ValueError(f"not an event key: {key!r}")
    return session_id, int(seq)


def assemble_event(ts: str, session_id: str, seq: int, event_type: str, payload: bytes) -> bytes:
    """Build the stored JSON of an event from its parts and pre-encoded `data` payload."""
    return b"".join(
        (
            b'{"ts":"', ts.encode("ascii"), b'","session":"', session_id.encode("ascii"),
            b'","seq":', str(seq).encode("ascii"), b',"type":"', event_type.encode("ascii"),
            b'","data":', payload, b"}",
        )
    )


def encode_event(event: Event) -> bytes:
    """Encode an `Event` to its stored JSON."""
    return _encoder.encode(event)


def decode_event(raw: bytes) -> Event:
    """Decode a stored event; raises `msgspec.DecodeError` (a `ValueError`) on bad input."""
    return _event_decoder.decode(raw)


def decode_event_or_none(raw: bytes, key: bytes = b"") -> Event | None:
    """Decode a stored event, or log a warning and return None if it is malformed."""
    try:
        return _event_decoder.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        log.warning("skipping malformed event %s: %s", key.decode("ascii", "replace"), exc)
        return None


def well_formed_raw_events(
    pairs: Iterable[tuple[bytes, bytes]],
) -> Iterator[tuple[bytes, bytes]]:
    """The stored `(key, value)` pairs whose value decodes as an event, unchanged; a malformed
    one is skipped with a warning, so raw bytes never reach a reader's output."""
    for key, raw in pairs:
        if decode_event_or_none(raw, key) is not None:
            yield key, raw
