"""Where and how to send spans over OTLP: endpoint, protocol, headers and timeout.

Explicit values (the command's options) win over the standard `OTEL_EXPORTER_OTLP_*`
variables. No OpenTelemetry import here, so resolving settings costs nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from contextree.errors import UsageError

PROTOCOL_HTTP, PROTOCOL_GRPC = "http/protobuf", "grpc"
PROTOCOLS = (PROTOCOL_HTTP, PROTOCOL_GRPC)
TRACES_PATH = "/v1/traces"


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

    def describe(self) -> str:
        protocol = self.resolved_protocol()
        endpoint = self.resolved_endpoint(protocol) or os.environ.get(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get(
            "OTEL_EXPORTER_OTLP_ENDPOINT") or "http://localhost:4318"
        return f"{endpoint} ({protocol})"


def parse_headers(text: str) -> dict[str, str]:
    """`k1=v1,k2=v2` (values URL-encoded, as in `OTEL_EXPORTER_OTLP_HEADERS`)."""
    headers: dict[str, str] = {}
    for item in text.split(","):
        name, sep, value = item.partition("=")
        if sep and name.strip():
            headers[name.strip().lower()] = unquote(value.strip())
    return headers
