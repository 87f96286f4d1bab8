"""Status classification, Retry-After parsing, error details and secret scrubbing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from contextree.engine.providers.http_errors import (
    classify_status,
    error_detail,
    parse_retry_after,
    status_error,
)
from contextree.secrets import Secret, redact_url, scrub_text

NOW = datetime(2026, 11, 24, 13, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, ("bad_request", False)),
        (401, ("auth", False)),
        (403, ("auth", False)),
        (404, ("not_found", False)),
        (408, ("timeout", True)),
        (413, ("bad_request", False)),
        (418, ("other", False)),
        (422, ("bad_request", False)),
        (429, ("rate_limit", True)),
        (500, ("server", True)),
        (503, ("server", True)),
        (529, ("server", True)),
    ],
)
def test_classify_status(status: int, expected: tuple[str, bool]) -> None:
    assert classify_status(status) == expected


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "12"}, 12.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"Retry-After": "-3"}, 0.0),
        ({"Retry-After": "Tue, 24 Nov 2026 13:00:45 GMT"}, 45.0),
        ({"Retry-After": "Tue, 24 Nov 2026 12:00:00 GMT"}, 0.0),
        ({"retry-after-ms": "250", "Retry-After": "9"}, 0.25),
        ({"Retry-After": "soon"}, None),
        ({"Retry-After": "nan"}, None),
        ({"llm_provider-retry-after": "60"}, 60.0),
        ({"LLM_Provider-Retry-After": "Tue, 24 Nov 2026 13:00:45 GMT"}, 45.0),
        ({"Retry-After": "5", "llm_provider-retry-after": "60"}, 5.0),
        ({"retry-after-ms": "1500", "llm_provider-retry-after": "60"}, 1.5),
        ({}, None),
    ],
)
def test_parse_retry_after(headers: dict[str, str], expected: float | None) -> None:
    assert parse_retry_after(headers, now=NOW) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"error": {"message": "bad model", "type": "x"}}, "bad model"),
        ({"type": "error", "error": {"type": "x", "message": "overloaded"}}, "overloaded"),
        ({"error": "plain string error"}, "plain string error"),
        ({"detail": "not here"}, "not here"),
        ('{"message": "from text"}', "from text"),
        (b"<html>\n  oops\n</html>", "<html> oops </html>"),
        (None, ""),
    ],
)
def test_error_detail(body: object, expected: str) -> None:
    assert error_detail(body) == expected


def test_error_detail_is_bounded() -> None:
    assert len(error_detail("x" * 5000)) <= 300


def test_scrub_removes_the_key_bearer_tokens_and_key_assignments() -> None:
    text = "key sk-abc123456 Authorization: Bearer tok_987 api_key=zzz999 x-api-key: 'qqq'"

    scrubbed = scrub_text(text, "sk-abc123456")

    for secret in ("sk-abc123456", "tok_987", "zzz999", "qqq"):
        assert secret not in scrubbed
    assert scrubbed.startswith("key [redacted] Authorization: Bearer [redacted]")


def test_secret_hides_its_value_from_repr_and_str() -> None:
    secret = Secret("sk-hidden-value")

    assert "sk-hidden" not in repr(secret) and "sk-hidden" not in str(secret)
    assert secret.reveal() == "sk-hidden-value"


def test_status_error_carries_retry_after_only_for_retryable_statuses() -> None:
    limited = status_error("p", 429, headers={"Retry-After": "4"}, detail="", secret=None)
    rejected = status_error("p", 400, headers={"Retry-After": "4"}, detail="", secret=None)

    assert limited.retry_after_s == 4.0 and "retry after 4s" in str(limited)
    assert rejected.retry_after_s is None


def test_redact_url_hides_credentials_in_the_authority() -> None:
    assert redact_url("http://user:pw@host:8080/v1") == "http://[redacted]@host:8080/v1"
    assert redact_url("http://host/v1/a@b") == "http://host/v1/a@b"
