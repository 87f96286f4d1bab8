"""The hand-written OTLP encoder against the SDK's: real sessions (retries, failures, an
unfinished one, unicode, array attributes) decode with opentelemetry-proto to the same request
field by field, through the encoder and through `ctree export otlp`; any attribute value does."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from contextree import __version__
from contextree.export.mapping import AttributeValue
from contextree.export.otlp_http import SCOPE_NAME, resource_attributes
from contextree.export.otlp_wire import TraceEncoder
from contextree.export.pipeline import session_spans
from contextree.export.spans import SpanEvent, SpanRecord
from contextree.progress import ProgressRuntime
from tests.export.conftest import Ctree
from tests.fakes.llm_server import FakeLLMServer, error
from tests.fakes.otlp_receiver import OtlpReceiver, decode_spans

pytest.importorskip("opentelemetry.sdk.trace", reason="the SDK encoder is the reference")
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

from contextree.export.otlp import to_readable_span

UNICODE_FILE = "pkg/café_日本語_🙂.py"


def encode_ours(spans: list[SpanRecord]) -> bytes:
    return TraceEncoder(resource_attributes(), SCOPE_NAME, __version__).encode_request(spans)


def encode_sdk(spans: list[SpanRecord]) -> bytes:
    return bytes(encode_spans([to_readable_span(span) for span in spans]).SerializeToString())


def decode(body: bytes) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    return request


def without_resource(request: ExportTraceServiceRequest) -> dict[str, AnyValue]:
    """The resource's attributes, removed from `request` (the rest compares as a message)."""
    resource = request.resource_spans[0].resource
    attributes = {pair.key: pair.value for pair in resource.attributes}
    del resource.attributes[:]
    return attributes


def assert_same_request(spans: list[SpanRecord]) -> None:
    ours, theirs = decode(encode_ours(spans)), decode(encode_sdk(spans))
    our_resource, their_resource = without_resource(ours), without_resource(theirs)
    assert our_resource == their_resource  # the SDK (gRPC) path sends the same resource
    assert our_resource["telemetry.sdk.name"].string_value == "contextree"
    our_spans = ours.resource_spans[0].scope_spans[0].spans
    their_spans = theirs.resource_spans[0].scope_spans[0].spans
    assert len(our_spans) == len(their_spans) == len(spans)
    for our_span, their_span in zip(our_spans, their_spans, strict=True):
        assert our_span == their_span, our_span.name
    assert ours == theirs


def with_arrays(spans: list[SpanRecord]) -> list[SpanRecord]:
    """The mapping puts no list in an attribute yet; OTLP arrays must still encode alike."""
    arrays: dict[str, AttributeValue] = {
        "ctree.test.paths": ["a.py", "é/日本.py", ""], "ctree.test.counts": [0, -1, 2**62],
        "ctree.test.ratios": [0.5, -1e300], "ctree.test.flags": [True, False],
        "ctree.test.empty": [],
    }
    for span in spans[::3]:
        span.attributes.update(arrays)
        span.events.append(SpanEvent("ctree.test", span.start_ns, dict(arrays)))
    return spans


@pytest.fixture
def sessions(ctree: Ctree, llm: FakeLLMServer) -> Iterator[list[list[SpanRecord]]]:
    """Each session's spans: a full generate, a retried request, a provider at a closed port,
    and one still running; the workspace holds a file with a non-ASCII name."""
    unicode_file = ctree.root / UNICODE_FILE
    unicode_file.write_text("ANSWER = '→ 42 ✓'\n", encoding="utf-8")
    assert ctree("context", "generate", "pkg/core.py", "--provider", "down")[0] == 1
    llm.enqueue(error(503, "busy"))
    ctree.ok("context", "generate", "pkg/core.py", "--provider", "fake")
    ctree.ok("context", "generate")
    runtime = ProgressRuntime.open(ctree.root / ".ctree" / "store")
    try:
        session = runtime.session("context.generate", {"path": "ünïcode/路径"})
        session.__enter__()
        session.emit("level_started", {"plan_id": "p", "level_index": 0, "total_levels": 1,
                                       "node_count": 1})
        runtime.flush()
        store = runtime.store
        yield [[span for _, closed in session_spans(store, record.session_id,
                                                    store.status_of(record))
                for span in closed] for record in store.list_sessions()]
    finally:
        session.__exit__(None, None, None)
        runtime.close()


def test_real_sessions_encode_as_the_sdk_encodes_them(sessions: list[list[SpanRecord]]) -> None:
    assert len(sessions) == 4
    everything = [span for spans in sessions for span in spans]
    names = {span.name for span in everything}
    assert {"chat down-model", "chat fake-model", "level 0"} <= names
    assert any(span.attributes.get("ctree.unfinished") for span in everything)
    assert any(span.status == "error" and span.status_message for span in everything)
    assert any(event.name == "retry" for span in everything for event in span.events)
    assert any(UNICODE_FILE in str(span.attributes.get("ctree.path")) for span in everything)
    for spans in sessions:
        assert_same_request(spans)
    assert_same_request(with_arrays(everything))


def test_export_through_the_command_receives_what_the_sdk_would_send(
    ctree: Ctree, receiver: OtlpReceiver, llm: FakeLLMServer
) -> None:
    assert ctree("context", "generate", "pkg/core.py", "--provider", "down")[0] == 1
    llm.enqueue(error(503, "busy"))
    ctree.ok("context", "generate", "pkg/core.py", "--provider", "fake")
    ctree.ok("export", "otlp", "--all", "--endpoint", receiver.base_url)
    runtime = ProgressRuntime.open(ctree.root / ".ctree" / "store")
    try:
        store = runtime.store
        spans = [span for record in reversed(store.list_sessions()) for _, closed in
                 session_spans(store, record.session_id, store.status_of(record))
                 for span in closed]
    finally:
        runtime.close()
    expected = decode_spans(encode_sdk(spans))
    assert len(receiver.spans) == len(expected) > 0
    assert [dataclasses.replace(span, resource={}) for span in receiver.spans] == [
        dataclasses.replace(span, resource={}) for span in expected]


SCALARS = (st.text() | st.integers(min_value=-(2**70), max_value=2**70)
           | st.floats(allow_nan=False) | st.booleans())
VALUES = (SCALARS | st.lists(st.text(), max_size=4)
          | st.lists(st.integers(min_value=-(2**63), max_value=2**63 - 1), max_size=4)
          | st.lists(st.floats(allow_nan=False), max_size=4) | st.lists(st.booleans(), max_size=4))
ATTRIBUTES = st.dictionaries(st.text(max_size=20), VALUES, max_size=6)


def python_value(value: AnyValue) -> AttributeValue:
    which = value.WhichOneof("value")
    if which == "array_value":
        return [python_value(item) for item in value.array_value.values]  # type: ignore[misc]
    return getattr(value, str(which))  # type: ignore[no-any-return]


def fits_int64(value: AttributeValue) -> bool:
    return not isinstance(value, int) or isinstance(value, bool) or -(2**63) <= value < 2**63


@settings(max_examples=200, deadline=None)
@given(attributes=ATTRIBUTES, event_attributes=ATTRIBUTES, name=st.text())
def test_any_attribute_value_encodes_as_the_sdk_encodes_it_and_round_trips(
    attributes: dict[str, AttributeValue], event_attributes: dict[str, AttributeValue],
    name: str,
) -> None:
    span = SpanRecord(trace_id=(1 << 127) + 5, span_id=(1 << 63) + 7, parent_span_id=3,
                      name=name, kind="client", start_ns=1, end_ns=2**63 + 11,
                      attributes=dict(attributes),
                      events=[SpanEvent(name, 2**40, dict(event_attributes))],
                      status="error", status_message=name)
    assert_same_request([span])
    decoded = decode(encode_ours([span])).resource_spans[0].scope_spans[0].spans[0]
    assert {pair.key: python_value(pair.value) for pair in decoded.attributes} == {
        key: value for key, value in attributes.items() if fits_int64(value)}
    assert decoded.name == name and decoded.end_time_unix_nano == 2**63 + 11


def test_nan_and_infinities_survive_the_wire() -> None:
    span = SpanRecord(trace_id=1, span_id=2, parent_span_id=None, name="n", kind="internal",
                      start_ns=0, attributes={"nan": math.nan, "inf": math.inf,
                                              "ninf": [-math.inf]})
    decoded = decode(encode_ours([span])).resource_spans[0].scope_spans[0].spans[0]
    values = {pair.key: python_value(pair.value) for pair in decoded.attributes}
    assert math.isnan(float(values["nan"]))  # type: ignore[arg-type]
    assert values["inf"] == math.inf and values["ninf"] == [-math.inf]
