"""`ctree export otlp` over the standard-library OTLP/HTTP sender: the `OTEL_EXPORTER_OTLP_*`
variables, compression, retries on transient statuses, a refused batch said in one line, and
no OpenTelemetry SDK needed."""

from __future__ import annotations

import sys

import pytest

from tests.export.conftest import Ctree
from tests.fakes.otlp_receiver import OtlpReceiver


def test_the_variables_choose_url_headers_and_gzip(
    ctree: Ctree, receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctree.ok("scan")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", receiver.endpoint)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")  # the traces one wins
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-team=core%20ai,x-tenant=t1")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip")
    out = ctree.ok("export", "otlp", "last", "--header", "x-tenant=t2")
    assert receiver.endpoint in out
    headers = receiver.headers[0]
    assert headers["content-encoding"] == "gzip"
    assert headers["content-type"] == "application/x-protobuf"
    assert headers["x-team"] == "core ai" and headers["x-tenant"] == "t2"
    assert [span.name for span in receiver.spans] == ["scan", "ctree scan"]


def test_a_base_endpoint_variable_gets_the_traces_path_and_deflate_works(
    ctree: Ctree, receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctree.ok("scan")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.base_url + "/")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "deflate")
    ctree.ok("export", "otlp", "last")
    assert receiver.headers[0]["content-encoding"] == "deflate"
    assert len(receiver.spans) == 2


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_a_transient_status_is_retried_until_the_batch_is_taken(
    ctree: Ctree, receiver: OtlpReceiver, status: int
) -> None:
    ctree.ok("scan")
    receiver.refuse_next(2, status)  # each with Retry-After: 0
    out = ctree.ok("export", "otlp", "last", "--endpoint", receiver.base_url)
    assert "→ 2 spans" in out
    assert receiver.posts == 3 and receiver.requests == 1 and len(receiver.spans) == 2


def test_a_refused_batch_is_not_retried_and_is_said_in_one_line(
    ctree: Ctree, receiver: OtlpReceiver
) -> None:
    ctree.ok("scan")
    receiver.refuse_next(1, 400)
    code, _, err = ctree("export", "otlp", "last", "--endpoint", receiver.base_url)
    assert code == 1 and receiver.posts == 1 and not receiver.spans
    assert err.startswith("error: ") and err.count("\n") == 1 and "did not take 1 batch" in err


def test_an_endpoint_that_is_not_http_is_a_one_line_error(ctree: Ctree) -> None:
    ctree.ok("scan")
    code, _, err = ctree("export", "otlp", "last", "--endpoint", "localhost:4318")
    assert code == 1 and err.count("\n") == 1 and "--endpoint http://" in err


def test_http_export_needs_no_opentelemetry_package(
    ctree: Ctree, receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctree.ok("scan")
    for name in [name for name in sys.modules if name.startswith("opentelemetry.sdk")
                 or name.startswith("opentelemetry.exporter") or name == "contextree.export.otlp"]:
        monkeypatch.delitem(sys.modules, name)
    for name in ("opentelemetry.sdk", "opentelemetry.exporter", "contextree.export.otlp"):
        monkeypatch.setitem(sys.modules, name, None)  # importing them now fails
    ctree.ok("export", "otlp", "last", "--endpoint", receiver.base_url)
    assert len(receiver.spans) == 2
