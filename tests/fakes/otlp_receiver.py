"""A real OTLP/HTTP trace receiver on 127.0.0.1, for tests.

`OtlpReceiver` answers `POST /v1/traces` (protobuf, optionally gzip or deflate) by decoding
the body with `opentelemetry-proto`'s `ExportTraceServiceRequest` and keeping every span,
flattened into a `ReceivedSpan` (hex ids, attributes and events as plain Python values).
`wait_for_spans(n)` waits on the arrival of spans, never on time; `refuse(True)` answers 503
to everything, `refuse_next(n, status)` to the next n requests (with `Retry-After: 0`).
"""

from __future__ import annotations

import gzip
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

TRACES_PATH = "/v1/traces"
AttributeValue = str | bool | int | float


@dataclass(frozen=True)
class ReceivedEvent:
    name: str
    time_ns: int
    attributes: dict[str, AttributeValue]


@dataclass(frozen=True)
class ReceivedSpan:
    """One span as it came over the wire; ids are lowercase hex."""

    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    kind: int
    start_ns: int
    end_ns: int
    attributes: dict[str, AttributeValue]
    events: list[ReceivedEvent]
    status_code: int
    status_message: str
    resource: dict[str, AttributeValue] = field(default_factory=dict)


def _value(value: AnyValue) -> AttributeValue:
    which = value.WhichOneof("value")
    if which == "string_value":
        return value.string_value
    if which == "bool_value":
        return value.bool_value
    if which == "int_value":
        return value.int_value
    if which == "double_value":
        return value.double_value
    return str(value)


def _attributes(pairs: list[KeyValue]) -> dict[str, AttributeValue]:
    return {pair.key: _value(pair.value) for pair in pairs}


def decode_spans(body: bytes) -> list[ReceivedSpan]:
    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    spans = []
    for resource_spans in request.resource_spans:
        resource = _attributes(list(resource_spans.resource.attributes))
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.append(ReceivedSpan(
                    trace_id=span.trace_id.hex(), span_id=span.span_id.hex(),
                    parent_span_id=span.parent_span_id.hex(), name=span.name, kind=span.kind,
                    start_ns=span.start_time_unix_nano, end_ns=span.end_time_unix_nano,
                    attributes=_attributes(list(span.attributes)),
                    events=[ReceivedEvent(e.name, e.time_unix_nano, _attributes(list(
                        e.attributes))) for e in span.events],
                    status_code=span.status.code, status_message=span.status.message,
                    resource=resource,
                ))
    return spans


SpansPredicate = Callable[[list[ReceivedSpan]], bool]


class OtlpReceiver:
    """Collects the spans POSTed to `endpoint` (`http://127.0.0.1:<port>/v1/traces`)."""

    def __init__(self, port: int = 0) -> None:
        self.spans: list[ReceivedSpan] = []
        self.requests = 0
        self.headers: list[dict[str, str]] = []
        self.posts = 0
        self._refusing = False
        self._refusals: list[int] = []
        self._changed = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.endpoint = self.base_url + TRACES_PATH
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> OtlpReceiver:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def refuse(self, refusing: bool) -> None:
        self._refusing = refusing

    def refuse_next(self, count: int, status: int = 503) -> None:
        self._refusals = [status] * count

    def _refusal(self) -> int | None:
        with self._changed:
            self.posts += 1
            if self._refusing:
                return 503
            return self._refusals.pop() if self._refusals else None

    def wait_for_spans(self, count: int, timeout: float = 60.0) -> list[ReceivedSpan]:
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.spans) >= count, timeout):
                raise AssertionError(f"got {len(self.spans)} spans, waited for {count}")
            return list(self.spans)

    def wait_for(self, predicate: SpansPredicate, timeout: float = 60.0) -> list[ReceivedSpan]:
        with self._changed:
            if not self._changed.wait_for(lambda: predicate(self.spans), timeout):
                raise AssertionError(f"condition not met with {len(self.spans)} spans")
            return list(self.spans)

    def _received(self, spans: list[ReceivedSpan], headers: dict[str, str]) -> None:
        with self._changed:
            self.spans.extend(spans)
            self.requests += 1
            self.headers.append(headers)
            self._changed.notify_all()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                refusal = receiver._refusal()
                if refusal is not None or self.path != TRACES_PATH:
                    self.send_response(refusal or 404)
                    self.send_header("retry-after", "0")
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                if self.headers.get("content-encoding") == "gzip":
                    body = gzip.decompress(body)
                elif self.headers.get("content-encoding") == "deflate":
                    body = zlib.decompress(body)
                spans = decode_spans(body)
                headers = {name.lower(): value for name, value in self.headers.items()}
                receiver._received(spans, headers)  # before the reply: the sender may look next
                reply = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler
