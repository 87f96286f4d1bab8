"""OTLP/HTTP (protobuf) with the standard library: encode span batches by hand and POST them.

`HttpSpanSink` behaves as the OpenTelemetry SDK's OTLP/HTTP exporter: the same variables
(`otlp_settings`), headers, gzip or deflate compression, a timeout that bounds one batch with
its retries, and retries on 429, 502, 503, 504 and connection errors (up to 6 attempts,
backoff 2^n s ± 20 %, or the server's `Retry-After`). Each failure is logged in one line, as
the SDK does, and `send` returns False; proxies come from the usual `*_proxy` variables.
"""

from __future__ import annotations

import gzip
import http.client
import logging
import math
import os
import random
import ssl
import threading
import time
import uuid
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from email.message import Message
from email.utils import parsedate_to_datetime
from urllib.error import HTTPError
from urllib.parse import unquote, urlsplit
from urllib.request import HTTPSHandler, OpenerDirector, Request, build_opener

from contextree import __version__
from contextree.errors import UsageError
from contextree.export.mapping import PROJECT_ATTRIBUTE, AttributeValue
from contextree.export.otlp_settings import OtlpSettings
from contextree.export.otlp_wire import TraceEncoder
from contextree.export.spans import SpanRecord

SERVICE_NAME = "contextree"
SCOPE_NAME = "contextree"
MAX_ATTEMPTS = 6
BACKOFF_JITTER = 0.2
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
MAX_REQUEST_BYTES = 64 * 1024 * 1024
"""The SDK's limit on one serialized request (before compression); a bigger batch is dropped."""

SERVICE_INSTANCE_ID = str(uuid.uuid4())
"""One per process, as the SDK's resource has it."""

log = logging.getLogger(__name__)


def resource_attributes() -> dict[str, AttributeValue]:
    """The resource of every exported span: the SDK's keys, with this program as the SDK,
    the Phoenix project (`contextree` unless `OTEL_RESOURCE_ATTRIBUTES` names another),
    `OTEL_RESOURCE_ATTRIBUTES` (URL-encoded `k=v,…`) and the service, which wins."""
    attributes: dict[str, AttributeValue] = {
        "telemetry.sdk.language": "python", "telemetry.sdk.name": SERVICE_NAME,
        "telemetry.sdk.version": __version__, PROJECT_ATTRIBUTE: SERVICE_NAME,
    }
    for item in os.environ.get("OTEL_RESOURCE_ATTRIBUTES", "").split(","):
        key, sep, value = item.partition("=")
        if sep and key.strip():
            attributes[key.strip()] = unquote(value.strip())
    attributes["service.instance.id"] = SERVICE_INSTANCE_ID
    attributes["service.name"] = SERVICE_NAME
    attributes["service.version"] = __version__
    return attributes


@dataclass(frozen=True)
class Attempt:
    """One POST's outcome: an HTTP status, or a connection error (status None)."""

    status: int | None
    reason: str
    retry_after_s: float | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 400

    @property
    def retryable(self) -> bool:
        return self.status is None or self.status in RETRYABLE_STATUSES


class HttpSpanSink:
    """A `SpanSink` POSTing OTLP/HTTP protobuf requests to the settings' traces URL."""

    def __init__(self, settings: OtlpSettings) -> None:
        self.endpoint = settings.http_endpoint()
        if urlsplit(self.endpoint).scheme not in ("http", "https"):
            raise UsageError(f"OTLP endpoint {self.endpoint!r} is not an http(s) URL — use "
                             "e.g. --endpoint http://localhost:4318")
        self.timeout_s = settings.http_timeout_s()
        self.compression = settings.http_compression()
        self.headers = {"content-type": "application/x-protobuf",
                        "user-agent": f"contextree/{__version__}"} | settings.http_headers()
        if self.compression != "none":
            self.headers.setdefault("content-encoding", self.compression)
        self.encoder = TraceEncoder(resource_attributes(), SCOPE_NAME, __version__)
        self._opener = _opener(*settings.tls_files())
        self._closed = threading.Event()

    def send(self, spans: Sequence[SpanRecord]) -> bool:
        body = self.encoder.encode_request(spans)
        if len(body) > MAX_REQUEST_BYTES:
            log.warning("Dropping span batch: serialized size %d bytes exceeds "
                        "max_request_size %d bytes.", len(body), MAX_REQUEST_BYTES)
            return False
        return self.post(self._compress(body))

    def close(self) -> None:
        """Stop waiting between retries (a send in progress gives up at its next pause)."""
        self._closed.set()

    def post(self, body: bytes) -> bool:
        """POST `body`, retrying transient failures within the timeout; True once taken."""
        deadline = time.monotonic() + self.timeout_s
        for attempt_index in range(MAX_ATTEMPTS):
            backoff = 2 ** attempt_index * random.uniform(1 - BACKOFF_JITTER, 1 + BACKOFF_JITTER)
            attempt = self._submit(body, deadline)
            if attempt.ok:
                return True
            if not attempt.retryable:
                log.error("Failed to export spans batch code: %s, reason: %s", attempt.status,
                          attempt.reason)
                return False
            if attempt.retry_after_s is not None:
                backoff = attempt.retry_after_s
            if (attempt_index + 1 == MAX_ATTEMPTS or backoff > deadline - time.monotonic()
                    or self._closed.is_set()):
                log.error("Failed to export spans batch due to timeout, max retries or "
                          "shutdown.")
                return False
            log.warning("Transient error %s encountered while exporting spans batch, "
                        "retrying in %.2fs.", attempt.reason, backoff)
            if self._closed.wait(backoff):
                break
        return False

    def _submit(self, body: bytes, deadline: float) -> Attempt:
        """One POST; a connection error is tried again at once (a stale connection)."""
        attempt = self._post_once(body, max(deadline - time.monotonic(), 0.0))
        remaining = deadline - time.monotonic()
        if attempt.status is None and remaining > 0:
            attempt = self._post_once(body, remaining)
        return attempt

    def _post_once(self, body: bytes, timeout_s: float) -> Attempt:
        request = Request(self.endpoint, data=body, headers=self.headers, method="POST")
        try:
            with self._opener.open(request, timeout=max(timeout_s, 0.001)) as response:
                response.read()
                return Attempt(response.status, str(response.reason))
        except HTTPError as error:
            error.read()
            return Attempt(error.code, str(error.reason), _retry_after_s(error.headers))
        except (OSError, http.client.HTTPException) as error:
            return Attempt(None, str(error) or type(error).__name__)

    def _compress(self, body: bytes) -> bytes:
        if self.compression == "gzip":
            return gzip.compress(body, compresslevel=9, mtime=0)
        if self.compression == "deflate":
            return zlib.compress(body)
        return body


def _opener(ca_file: str | None, client_certificate: str | None,
            client_key: str | None) -> OpenerDirector:
    """An opener that verifies TLS against `ca_file` (else the system's authorities) and
    presents a client certificate when one is configured; proxies from the environment."""
    try:
        context = ssl.create_default_context(cafile=ca_file)
        if client_certificate:
            context.load_cert_chain(client_certificate, client_key)
    except (OSError, ssl.SSLError) as error:
        raise UsageError(f"cannot load the OTLP TLS files ({error}) — check "
                         "OTEL_EXPORTER_OTLP_CERTIFICATE, …_CLIENT_CERTIFICATE and "
                         "…_CLIENT_KEY") from None
    return build_opener(HTTPSHandler(context=context))


def _retry_after_s(headers: Message) -> float | None:
    """`Retry-After` as seconds: a number, or an HTTP date from now (RFC 9110)."""
    value = headers.get("retry-after") if headers is not None else None
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        try:
            retry_at = parsedate_to_datetime(value.strip())
        except (TypeError, ValueError):
            return None
        if retry_at.tzinfo is None:
            retry_at = retry_at.replace(tzinfo=UTC)
        return max(retry_at.timestamp() - time.time(), 0.0)
    return max(seconds, 0.0) if math.isfinite(seconds) else None
