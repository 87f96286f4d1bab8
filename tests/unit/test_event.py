"""Seed §12 unit tests: event codec, timestamps, key order — plus hostile-input basics."""

from __future__ import annotations

import json
import time

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from contextree.errors import EventError
from contextree.progress.catalog import EVENT_CATALOG, missing_fields
from contextree.progress.event import (
    Event,
    assemble_event,
    check_type_name,
    decode_event,
    decode_event_or_none,
    encode_event,
    encode_payload,
    event_key,
    format_ts,
    is_valid_ts,
    parse_ts,
    split_event_key,
)
from contextree.secrets import register_secret

SID = "01JD0000000000000000000000"


def test_event_serializes_to_valid_json() -> None:
    event = Event(ts="2026-11-24T13:33:59.827Z", session=SID, seq=7, type="level_started",
                  data={"plan_id": "p", "level_index": 0, "note": "ünïcode ✓"})
    parsed = json.loads(encode_event(event))
    assert parsed == {"ts": "2026-11-24T13:33:59.827Z", "session": SID, "seq": 7,
                      "type": "level_started",
                      "data": {"plan_id": "p", "level_index": 0, "note": "ünïcode ✓"}}


def test_assembled_event_is_the_same_json_as_the_encoded_struct() -> None:
    payload = encode_payload({"path": "a.py", "n": 3})
    raw = assemble_event("2026-11-24T13:33:59.827Z", SID, 12, "node_skipped", payload)
    assert json.loads(raw) == json.loads(encode_event(decode_event(raw)))


def test_deserialization_is_equivalent() -> None:
    event = Event(ts=format_ts(time.time()), session=SID, seq=1, type="session_started",
                  data={"command": "scan", "args": {"force": True}, "nested": [1, 2, {"x": None}]})
    assert decode_event(encode_event(event)) == event


def test_unknown_fields_are_ignored() -> None:
    raw = json.dumps({"ts": "2026-11-24T13:33:59.827Z", "session": SID, "seq": 3,
                      "type": "future_type", "data": {"new": 1}, "added_later": {"x": 1}})
    event = decode_event(raw.encode())
    assert (event.type, event.seq, event.data) == ("future_type", 3, {"new": 1})


def test_malformed_values_decode_to_none_not_a_crash() -> None:
    assert decode_event_or_none(b"\xff\xfe not json") is None
    assert decode_event_or_none(b'{"ts": 1, "session": "x"}') is None
    assert decode_event_or_none(b"[]") is None


@pytest.mark.parametrize("epoch", [0.0, 1.5, 1795531016.9999, 1795531016.0005, 4102444799.123])
def test_timestamps_have_the_exact_form_and_round_trip(epoch: float) -> None:
    ts = format_ts(epoch)
    assert len(ts) == 24 and ts.endswith("Z") and is_valid_ts(ts)
    assert abs(parse_ts(ts) - epoch) < 0.001


@pytest.mark.parametrize("bad", ["2026-11-24T13:33:59Z", "2026-11-24 13:33:59.827Z",
                                 "2026-11-24T13:33:59.827+00:00", "", None, 12])
def test_timestamp_validation_rejects_other_forms(bad: object) -> None:
    assert not is_valid_ts(bad)


def test_key_encoding_preserves_lexical_order() -> None:
    seqs = [1, 2, 9, 10, 11, 99, 100, 1000, 10**12, 10**19]
    keys = [event_key(SID, seq) for seq in seqs]
    assert keys == sorted(keys)
    assert all(split_event_key(key) == (SID, seq) for key, seq in zip(keys, seqs, strict=True))
    assert event_key(SID, 5) < event_key("01JD0000000000000000000001", 1)


@given(st.integers(min_value=1, max_value=10**19), st.integers(min_value=1, max_value=10**19))
def test_key_order_matches_seq_order(a: int, b: int) -> None:
    assert (event_key(SID, a) < event_key(SID, b)) == (a < b)


@given(st.binary(max_size=200))
def test_random_bytes_never_raise_from_the_lenient_decoder(raw: bytes) -> None:
    result = decode_event_or_none(raw)
    assert result is None or isinstance(result, Event)


def test_bad_type_names_and_payloads_are_refused_at_emit() -> None:
    with pytest.raises(EventError, match="snake_case"):
        check_type_name("LevelStarted")
    with pytest.raises(EventError, match="JSON"):
        encode_payload({"when": object()})
    with pytest.raises(EventError, match="limit"):
        encode_payload({"blob": "x" * (2 << 20)})
    with pytest.raises(EventError, match="object"):
        encode_payload([1, 2])  # type: ignore[arg-type]


def test_registered_secrets_are_redacted_from_payloads() -> None:
    secret = "sk-canary-4f9a1c2e7b"
    register_secret(secret)
    payload = encode_payload({"error": f"401 for key {secret}", "url": f"https://u:{secret}@h"})
    assert secret.encode() not in payload
    assert b"[redacted]" in payload
    assert msgspec.json.decode(payload)["error"] == "401 for key [redacted]"


def test_catalog_names_are_snake_case_and_required_fields_are_reported() -> None:
    for name in EVENT_CATALOG:
        check_type_name(name)
    assert missing_fields("level_started", {"plan_id": "p"}) == [
        "level_index", "total_levels", "node_count"]
    assert missing_fields("not_in_catalog", {}) == []
