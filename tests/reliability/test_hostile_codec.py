"""Hostile input to the event codec, the store keys and the readers, as Hypothesis properties.

Whatever a payload holds, an event round-trips through its stored form or is refused with an
`EventError`; keys sort by session, then seq; random bytes are a clean decode error, never a
crash; a registered secret never survives into a stored payload; and stored events with any
catalog type and any field values replay without an exception (a reader skips what it cannot
use). `--long` runs ten times the examples.
"""

from __future__ import annotations

import json
import os
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contextree import secrets as secrets_module
from contextree.cli.sessions import duration_ms, format_ms, session_row_from_state
from contextree.errors import EventError
from contextree.progress.catalog import EVENT_CATALOG
from contextree.progress.event import (
    SEQ_DIGITS,
    Event,
    assemble_event,
    decode_event,
    decode_event_or_none,
    encode_payload,
    event_key,
    format_ts,
    session_prefix,
    split_event_key,
)
from contextree.progress.reducer import counts_from_tail, replay
from contextree.progress.session import SessionRecord, effective_status
from contextree.progress.store import decode_record
from contextree.secrets import register_secret
from tests.reliability.figures import report_figures

EXAMPLES = 2000 if os.environ.get("CTREE_LONG") == "1" else 200
hostile = settings(max_examples=EXAMPLES, deadline=None,
                   suppress_health_check=[HealthCheck.too_slow])

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
session_ids = st.text(alphabet=CROCKFORD, min_size=26, max_size=26)
seqs = st.integers(min_value=0, max_value=10**SEQ_DIGITS - 1)
type_names = st.from_regex(r"\A[a-z][a-z0-9]{0,8}(_[a-z0-9]{1,6}){0,3}\Z")
timestamps = st.floats(min_value=0, max_value=4e9, allow_nan=False).map(format_ts)
json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(),
    st.floats(allow_nan=False, allow_infinity=False), st.text(),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=5),
                            st.dictionaries(st.text(), inner, max_size=5)),
    max_leaves=25,
)
payloads = st.dictionaries(st.text(), json_values, max_size=8)
surrogate_text = st.text(st.characters(min_codepoint=0xD700, max_codepoint=0xE100,
                                       exclude_categories=[]), max_size=6)
python_values = st.recursive(
    st.one_of(json_scalars, st.integers(), st.floats(), st.binary(), st.sets(st.integers()),
              surrogate_text,
              st.complex_numbers(), st.just(object())),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.tuples(inner, inner),
                            st.dictionaries(st.one_of(st.text(), st.integers()), inner,
                                            max_size=4)),
    max_leaves=10,
)


@pytest.fixture(scope="module", autouse=True)
def _print_examples() -> Any:
    yield
    report_figures("hostile codec (Hypothesis)", examples_per_property=EXAMPLES, properties=9)


@hostile
@given(timestamps, session_ids, seqs, type_names, payloads)
def test_any_json_payload_round_trips_through_the_stored_form(
    ts: str, session_id: str, seq: int, event_type: str, data: dict[str, Any]
) -> None:
    stored = assemble_event(ts, session_id, seq, event_type, encode_payload(data))
    assert json.loads(stored)["data"] == data
    assert decode_event(stored) == Event(ts=ts, session=session_id, seq=seq, type=event_type,
                                         data=data)


@hostile
@given(python_values)
def test_any_python_value_is_encoded_as_an_object_or_refused_cleanly(value: Any) -> None:
    try:
        payload = encode_payload(value)
    except EventError as error:
        assert str(error) and "\n" not in str(error)
        return
    assert isinstance(msgspec.json.decode(payload), dict)


@hostile
@given(st.dictionaries(surrogate_text, surrogate_text, max_size=4))
def test_text_from_undecodable_bytes_is_stored_with_replacement_characters(
    data: dict[str, str],
) -> None:
    """A file name or argument that is not UTF-8 arrives as lone surrogates: the event keeps
    the text with U+FFFD in their place instead of failing to encode."""
    decoded = msgspec.json.decode(encode_payload(data))
    assert len(decoded) <= len(data)
    for key, value in decoded.items():
        assert not any(0xD800 <= ord(ch) <= 0xDFFF for ch in key + value)


@hostile
@given(session_ids, seqs, session_ids, seqs)
def test_keys_sort_by_session_then_seq(sid_a: str, seq_a: int, sid_b: str, seq_b: int) -> None:
    key_a, key_b = event_key(sid_a, seq_a), event_key(sid_b, seq_b)
    assert (key_a < key_b) == ((sid_a, seq_a) < (sid_b, seq_b))
    assert key_a.startswith(session_prefix(sid_a))
    assert key_b.startswith(session_prefix(sid_a)) == (sid_a == sid_b)
    assert split_event_key(key_a) == (sid_a, seq_a)


@hostile
@given(st.one_of(st.binary(max_size=80),
                 st.builds(lambda sid, tail: sid.encode() + b":" + tail, session_ids,
                           st.binary(max_size=24))))
def test_random_bytes_are_an_event_key_exactly_or_a_value_error(raw: bytes) -> None:
    try:
        session_id, seq = split_event_key(raw)
    except ValueError:
        return
    assert event_key(session_id, seq) == raw


@hostile
@given(st.one_of(st.binary(max_size=200), json_values.map(lambda v: json.dumps(v).encode()),
                 st.builds(lambda ts, sid, seq, kind, data: json.dumps(
                     {"ts": ts, "session": sid, "seq": seq, "type": kind, "data": data}).encode(),
                     json_values, json_values, json_values, json_values, json_values)))
def test_random_bytes_decode_to_an_event_or_a_clean_error(raw: bytes) -> None:
    try:
        event = decode_event(raw)
    except (msgspec.DecodeError, msgspec.ValidationError) as error:
        assert isinstance(error, ValueError)  # what readers catch
        assert decode_event_or_none(raw, b"k") is None
        return
    assert isinstance(event.data, dict) and isinstance(event.seq, int)


@hostile
@given(st.one_of(st.binary(max_size=200), json_values.map(lambda v: json.dumps(v).encode()),
                 st.fixed_dictionaries(
                     {"session_id": st.text(max_size=30), "command": st.text(max_size=10)},
                     optional={"pid": json_values, "host": json_values,
                               "proc_start": json_values, "status": json_values,
                               "ended_at": json_values, "started_at": json_values,
                               "args": json_values},
                 ).map(lambda v: json.dumps(v).encode())))
def test_hostile_session_records_decode_or_are_skipped(raw: bytes) -> None:
    record = decode_record(raw)
    if record is not None:
        assert effective_status(record) in ("active", "completed", "failed", "interrupted")
        assert duration_ms(record) is None or isinstance(duration_ms(record), int)


field_values = st.one_of(
    json_scalars, st.sampled_from([1e308, -1, 10**19, "", "x", True]),
    st.lists(json_scalars, max_size=2), st.dictionaries(st.text(max_size=3), json_scalars,
                                                        max_size=2),
)
catalog_events = st.builds(
    lambda kind, data, extra: (
        kind, {**dict(zip(EVENT_CATALOG[kind], data, strict=False)), **extra}),
    st.sampled_from(sorted(EVENT_CATALOG)),
    st.lists(field_values, min_size=14, max_size=14),
    st.dictionaries(st.sampled_from(["path", "attempt", "duration_ms", "level_index",
                                     "status", "input_tokens", "total_nodes"]), field_values,
                    max_size=3),
)


@hostile
@given(st.lists(catalog_events, max_size=12))
def test_events_with_any_field_values_replay_without_an_exception(
    items: list[tuple[str, dict[str, Any]]],
) -> None:
    events = [Event(ts="2026-11-24T13:33:59.827Z", session="S", seq=seq, type=kind, data=data)
              for seq, (kind, data) in enumerate(items, start=1)]
    state = replay(events)
    json.dumps(state.to_json(), default=str)  # what `sessions replay --json` prints
    record = SessionRecord(session_id="S", command="x", started_at="2026-11-24T13:33:59.827Z")
    row = session_row_from_state(record, state)
    format_ms(row["duration_ms"])  # what `sessions replay` prints
    counts_from_tail(events)  # what the TUI's history reads


secrets_text = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126),
                       min_size=8, max_size=40)


@hostile
@given(secrets_text, st.text(max_size=10), st.text(max_size=10), st.sampled_from(
    ["value", "key", "nested", "list", "twice"]))
def test_a_registered_secret_never_survives_into_a_stored_payload(
    secret: str, before: str, after: str, where: str
) -> None:
    saved = list(secrets_module._secrets)
    try:
        register_secret(secret)
        text = before + secret + after
        data: dict[str, Any] = {
            "value": {"error": text},
            "key": {text: 1},
            "nested": {"a": [{"b": {"c": text}}]},
            "list": {"items": [1, text, None]},
            "twice": {"m": text + text},
        }[where]
        payload = encode_payload(data)
        decoded = json.loads(payload)  # still valid JSON after scrubbing
        assert secret not in json.dumps(decoded, ensure_ascii=False)
        assert secret not in payload.decode("utf-8", "replace")
    finally:
        secrets_module._secrets[:] = saved
