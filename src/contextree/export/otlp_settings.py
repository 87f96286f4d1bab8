"""Where and how to send spans over OTLP: endpoint, protocol, headers, timeout, compression.

Explicit values (the command's options) win over the standard `OTEL_EXPORTER_OTLP_*`
variables, resolved as the OpenTelemetry SDK's exporters resolve them. `open_sink` picks the
sender: the standard-library OTLP/HTTP one, or the SDK's gRPC exporter (its extra).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import unquote, urlsplit

from contextree.errors import UsageError
from contextree.export.spans import SpanRecord

PROTOCOL_HTTP, PROTOCOL_GRPC = "http/protobuf", "grpc"
PROTOCOLS = (PROTOCOL_HTTP, PROTOCOL_GRPC)
TRACES_PATH = "/v1/traces"
DEFAULT_HTTP_BASE = "http://localhost:4318"
DEFAULT_TIMEOUT_S = 10.0
COMPRESSIONS = ("none", "gzip", "deflate")
INSTALL_GRPC = "pip install 'contextree[otel-grpc]'"
SENDER_LOGGERS = ("opentelemetry.exporter", "contextree.export.otlp_http")

log = logging.getLogger(__name__)


class ClosingSpanSink(Protocol):
    """A sender of span batches (`send` is False when the endpoint did not take them)."""

    def send(self, spans: Sequence[SpanRecord]) -> bool: ...

    def close(self) -> None: ...


def open_sink(settings: OtlpSettings) -> ClosingSpanSink:
    """The sender for `settings`: OTLP/HTTP with the standard library, or the SDK over gRPC
    (a one-line `UsageError` naming the extra when it is not installed)."""
    if settings.resolved_protocol() == PROTOCOL_GRPC:
        try:
            from contextree.export.otlp import OtlpSink, build_exporter
        except ImportError:
            raise UsageError(f"OTLP over gRPC needs its exporter — {INSTALL_GRPC}") from None
        return OtlpSink(build_exporter(settings))
    from contextree.export.otlp_http import HttpSpanSink

    return HttpSpanSink(settings)


def quiet_sender_logs() -> None:
    """The senders log each failed attempt; the bridge says it in one line instead."""
    for name in SENDER_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)


@dataclass
class OtlpSettings:
    """Where and how to send: explicit values win over the `OTEL_EXPORTER_OTLP_*` variables."""

    endpoint: str | None = None
    protocol: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    timeout_s: float | None = None

    def resolved_protocol(self) -> str:
        protocol = (self.protocol or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
                    or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL") or PROTOCOL_HTTP)
        if protocol not in PROTOCOLS:
            raise UsageError(f"unknown OTLP protocol {protocol!r} — use "
                             f"{' or '.join(PROTOCOLS)}")
        return protocol

    def resolved_endpoint(self, protocol: str) -> str | None:
        """`--endpoint` as a base URL (`/v1/traces` added for HTTP when it has no path);
        None lets the exporter read the environment."""
        if not self.endpoint:
            return None
        if protocol == PROTOCOL_HTTP and urlsplit(self.endpoint).path in ("", "/"):
            return self.endpoint.rstrip("/") + TRACES_PATH
        return self.endpoint

    def resolved_headers(self) -> dict[str, str] | None:
        """Explicit headers over those of the environment; None lets the exporter read it."""
        if not self.headers:
            return None
        merged = parse_headers(os.environ.get("OTEL_EXPORTER_OTLP_HEADERS", ""))
        merged |= parse_headers(os.environ.get("OTEL_EXPORTER_OTLP_TRACES_HEADERS", ""))
        return merged | self.headers

    def http_endpoint(self) -> str:
        """The URL POSTed to: `--endpoint`, else `…_TRACES_ENDPOINT` as is, else
        `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`, else localhost:4318."""
        explicit = self.resolved_endpoint(PROTOCOL_HTTP)
        if explicit:
            return explicit
        traces = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        if traces:
            return traces
        base = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or DEFAULT_HTTP_BASE
        return base.removesuffix("/") + TRACES_PATH

    def http_headers(self) -> dict[str, str]:
        """Explicit headers over the environment's (`…_TRACES_HEADERS`, else the general)."""
        merged = self.resolved_headers()
        if merged is not None:
            return merged
        return parse_headers(os.environ.get("OTEL_EXPORTER_OTLP_TRACES_HEADERS")
                             or os.environ.get("OTEL_EXPORTER_OTLP_HEADERS", ""))

    def http_timeout_s(self) -> float:
        """Seconds for one batch, retries included (the SDK reads the variables as seconds)."""
        if self.timeout_s is not None:
            return self.timeout_s
        raw = (os.environ.get("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT")
               or os.environ.get("OTEL_EXPORTER_OTLP_TIMEOUT"))
        if not raw:
            return DEFAULT_TIMEOUT_S
        try:
            return float(raw)
        except ValueError:
            log.warning("Invalid timeout value %r, using default of %s seconds", raw,
                        DEFAULT_TIMEOUT_S)
            return DEFAULT_TIMEOUT_S

    def http_compression(self) -> str:
        """`none`, `gzip` or `deflate` from `…_TRACES_COMPRESSION` or `…_COMPRESSION`."""
        value = (os.environ.get("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION")
                 or os.environ.get("OTEL_EXPORTER_OTLP_COMPRESSION") or "none").strip().lower()
        if value not in COMPRESSIONS:
            log.warning("Unsupported compression type: %s", value)
            return "none"
        return value

    def tls_files(self) -> tuple[str | None, str | None, str | None]:
        """(CA certificate, client certificate, client key) from the variables."""
        return (_variable("CERTIFICATE"), _variable("CLIENT_CERTIFICATE"),
                _variable("CLIENT_KEY"))

    def describe(self) -> str:
        protocol = self.resolved_protocol()
        if protocol == PROTOCOL_HTTP:
            return f"{self.http_endpoint()} ({protocol})"
        endpoint = self.resolved_endpoint(protocol) or os.environ.get(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get(
            "OTEL_EXPORTER_OTLP_ENDPOINT") or "http://localhost:4318"
        return f"{endpoint} ({protocol})"


def _variable(name: str) -> str | None:
    """`OTEL_EXPORTER_OTLP_TRACES_<name>`, else `OTEL_EXPORTER_OTLP_<name>`."""
    return (os.environ.get(f"OTEL_EXPORTER_OTLP_TRACES_{name}")
            or os.environ.get(f"OTEL_EXPORTER_OTLP_{name}"))


def parse_headers(text: str) -> dict[str, str]:
    """`k1=v1,k2=v2` (values URL-encoded, as in `OTEL_EXPORTER_OTLP_HEADERS`)."""
    headers: dict[str, str] = {}
    for item in text.split(","):
        name, sep, value = item.partition("=")
        if sep and name.strip():
            headers[name.strip().lower()] = unquote(value.strip())
    return headers
