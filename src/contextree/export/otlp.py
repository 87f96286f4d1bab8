"""Sending span records with the OpenTelemetry SDK's exporters: gRPC (the `otel-grpc` extra).

The only module that imports OpenTelemetry, and only `--protocol grpc` imports it (OTLP/HTTP
goes through `otlp_http`, without the SDK). `OtlpSink` turns `SpanRecord`s into the SDK's
`ReadableSpan`s for an exporter; the benchmark keeps the SDK's HTTP exporter as its baseline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event as SdkEvent
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

from contextree import __version__
from contextree.errors import UsageError
from contextree.export.mapping import (
    SPAN_KIND_CLIENT,
    STATUS_ERROR,
    STATUS_OK,
    AttributeValue,
)
from contextree.export.otlp_http import resource_attributes
from contextree.export.otlp_settings import PROTOCOL_GRPC, OtlpSettings
from contextree.export.spans import SpanRecord

_RESOURCE = Resource(resource_attributes())
"""The same resource the OTLP/HTTP path sends (`OTEL_RESOURCE_ATTRIBUTES` may name another
project; the service is always contextree)."""
_SCOPE = InstrumentationScope("contextree", __version__)
_STATUS = {STATUS_OK: Status(StatusCode.OK)}
_FLAGS = TraceFlags(TraceFlags.SAMPLED)


def build_exporter(settings: OtlpSettings) -> SpanExporter:
    """The SDK exporter for `settings` (gRPC only when its extra is installed)."""
    protocol = settings.resolved_protocol()
    endpoint = settings.resolved_endpoint(protocol)
    if protocol == PROTOCOL_GRPC:
        try:
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
                OTLPSpanExporter as GrpcExporter,
            )
        except ImportError:
            raise UsageError("OTLP over gRPC needs its exporter — "
                             "pip install 'contextree[otel-grpc]'") from None
        exporter: SpanExporter = GrpcExporter(endpoint=endpoint,
                                              headers=settings.resolved_headers(),
                                              timeout=settings.timeout_s)
        return exporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=endpoint, headers=settings.resolved_headers(),
                            timeout=settings.timeout_s)


class OtlpSink:
    """A `SpanSink` sending over OTLP; `send` is False when the endpoint did not take them."""

    def __init__(self, exporter: SpanExporter) -> None:
        self.exporter = exporter

    def send(self, spans: Sequence[SpanRecord]) -> bool:
        result = self.exporter.export([to_readable_span(span) for span in spans])
        return result is SpanExportResult.SUCCESS

    def close(self) -> None:
        self.exporter.shutdown()


def to_readable_span(record: SpanRecord) -> ReadableSpan:
    """One `SpanRecord` as the SDK's finished span."""
    parent = None
    if record.parent_span_id is not None:
        parent = SpanContext(record.trace_id, record.parent_span_id, False, _FLAGS)
    status = _STATUS.get(record.status)
    if status is None:
        status = (Status(StatusCode.ERROR, record.status_message)
                  if record.status == STATUS_ERROR else Status(StatusCode.UNSET))
    return ReadableSpan(
        name=record.name,
        context=SpanContext(record.trace_id, record.span_id, False, _FLAGS),
        parent=parent,
        resource=_RESOURCE,
        attributes=_attributes(record.attributes),
        events=[SdkEvent(e.name, _attributes(e.attributes), e.time_ns) for e in record.events],
        kind=SpanKind.CLIENT if record.kind == SPAN_KIND_CLIENT else SpanKind.INTERNAL,
        status=status,
        start_time=record.start_ns,
        end_time=record.end_ns,
        instrumentation_scope=_SCOPE,
    )


def _attributes(values: Mapping[str, AttributeValue]) -> dict[str, AttributeValue]:
    return dict(values)

