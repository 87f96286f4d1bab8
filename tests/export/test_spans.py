"""The pure mapping: ids, the chat span's lifetime across attempts, and the missing extras."""

from __future__ import annotations

import sys

import pytest
from ulid import ULID

from contextree.cli.app import run
from contextree.export.spans import SpanBuilder, span_id_of, trace_id_of
from contextree.progress.event import Event

SESSION = str(ULID())


def event(seq: int, event_type: str, **data: object) -> Event:
    return Event(ts=f"2026-11-30T10:00:{seq:02d}.000Z", session=SESSION, seq=seq,
                 type=event_type, data=dict(data))


def test_ids_are_the_session_ulid_and_a_hash_of_session_and_seq() -> None:
    assert trace_id_of(SESSION) == int.from_bytes(ULID.from_str(SESSION).bytes, "big")
    assert span_id_of(SESSION, 7) == span_id_of(SESSION, 7) != span_id_of(SESSION, 8)
    assert 0 < span_id_of(SESSION, 7) < 1 << 64


def test_a_failed_retryable_attempt_keeps_the_chat_open_until_its_node_ends() -> None:
    request = {"request_id": "r1", "node_id": "n1", "frame_type": "f", "model": "m",
               "provider_type": "openai", "provider_name": "p"}
    builder = SpanBuilder(SESSION)
    assert builder.feed(event(1, "session_started", command="context.generate")) == []
    builder.feed(event(2, "node_generation_started", node_id="n1", frame_type="f",
                       agent_id="docs", level_index=0))
    builder.feed(event(3, "provider_request_sent", attempt=1, **request))
    assert builder.feed(event(4, "provider_request_failed", attempt=1, error_kind="timeout",
                              retryable=True, error="slow", **request)) == []
    closed = builder.feed(event(5, "node_generation_failed", node_id="n1", frame_type="f",
                                error="cancelled"))
    assert [span.name for span in closed] == ["chat m", "invoke_agent docs"]
    chat = closed[0]
    assert chat.status == "error" and chat.attributes["error.type"] == "timeout"
    assert chat.end_ns == 4_000_000_000 + chat.start_ns - 3_000_000_000
    assert chat.span_id == span_id_of(SESSION, 3)
    assert chat.parent_span_id == closed[1].span_id == span_id_of(SESSION, 2)
    assert "gen_ai.usage.input_tokens" not in chat.attributes


def test_grpc_without_its_extra_says_what_to_install_before_reading_anything(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delitem(sys.modules, "contextree.export.otlp", raising=False)
    monkeypatch.setitem(sys.modules, "opentelemetry.sdk.trace", None)
    assert run(["export", "otlp", "last", "--protocol", "grpc"]) == 1
    err = capsys.readouterr().err
    assert err == ("error: OTLP over gRPC needs its exporter — "
                   "pip install 'contextree[otel-grpc]'\n")


def test_grpc_without_its_exporter_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("opentelemetry.sdk.trace")
    monkeypatch.setitem(sys.modules, "opentelemetry.exporter.otlp.proto.grpc.trace_exporter",
                        None)
    from contextree.errors import UsageError
    from contextree.export.otlp_settings import OtlpSettings, open_sink

    with pytest.raises(UsageError, match=r"contextree\[otel-grpc\]"):
        open_sink(OtlpSettings(protocol="grpc"))
