"""Turning HTTP provider failures into `ProviderError`s that say what happened and what to do.

Both SDK providers map their exceptions through these helpers, so a 429 from OpenAI and one
from Anthropic read alike: the same `kind`, `retryable` and `retry_after_s`. Every message is
scrubbed of the API key and bearer tokens before it leaves, whatever the server echoed back.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from contextree.errors import ProviderError
from contextree.secrets import scrub_text

MAX_DETAIL_CHARS = 300
MAX_RESPONSE_BYTES = 4 << 20
"""The largest successful response body accepted (4 MiB; 1,024 tokens are a few KiB)."""
RETRY_AFTER_MS_HEADER = "retry-after-ms"
RETRY_AFTER_HEADERS = ("retry-after", "llm_provider-retry-after")
"""Headers in seconds or an HTTP date, in order of preference: the standard one, then the
variant a LiteLLM proxy forwards from the upstream provider."""


def parse_retry_after(headers: Mapping[str, str], *, now: datetime | None = None) -> float | None:
    """Seconds to wait from `retry-after-ms`, `Retry-After` or `llm_provider-retry-after`
    (seconds or an HTTP date); the queue caps it (`RetryPolicy.max_retry_after_s`)."""
    lowered = {name.lower(): value.strip() for name, value in headers.items()}
    milliseconds = _parse_float(lowered.get(RETRY_AFTER_MS_HEADER))
    if milliseconds is not None:
        return max(0.0, milliseconds / 1000)
    for header in RETRY_AFTER_HEADERS:
        seconds = _seconds_from(lowered.get(header), now)
        if seconds is not None:
            return seconds
    return None


def _seconds_from(value: str | None, now: datetime | None) -> float | None:
    if not value:
        return None
    seconds = _parse_float(value)
    if seconds is not None:
        return max(0.0, seconds)
    return _seconds_until_http_date(value, now or datetime.now(UTC))


def _parse_float(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _seconds_until_http_date(value: str, now: datetime) -> float | None:
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def error_detail(body: object, secret: str | None = None) -> str:
    """The human part of an error body: `error.message`, `message`, `detail` or the text.

    It is scrubbed of `secret` before it is shortened, so no part of a key survives a cut.
    """
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str):
        text = body
        try:
            body = json.loads(text)
        except ValueError:
            return _clean(text, secret)
    if isinstance(body, Mapping):
        for candidate in (body.get("error"), body.get("message"), body.get("detail")):
            nested = candidate.get("message") if isinstance(candidate, Mapping) else None
            if isinstance(nested, str):
                return _clean(nested, secret)
            if isinstance(candidate, str):
                return _clean(candidate, secret)
    return _clean(json.dumps(body, default=str), secret) if body is not None else ""


def _clean(text: str, secret: str | None, limit: int = MAX_DETAIL_CHARS) -> str:
    """`text` scrubbed, on one line and at most `limit` characters."""
    text = " ".join(scrub_text(text, secret).split())
    if len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


def status_error(
    provider_name: str,
    status_code: int,
    *,
    headers: Mapping[str, str],
    detail: str,
    secret: str | None,
    fix_hint: str = "",
) -> ProviderError:
    """The error for an HTTP error status, classified by code."""
    kind, retryable = classify_status(status_code)
    retry_after = parse_retry_after(headers) if status_code == 429 or status_code >= 500 else None
    message = f"provider '{provider_name}' answered HTTP {status_code}"
    if detail:
        message += f": {detail}"
    if retry_after is not None:
        message += f" (retry after {_format_seconds(retry_after)})"
    if fix_hint and kind in {"auth", "not_found", "bad_request"}:
        message += f" — {fix_hint}"
    return ProviderError(
        scrub_text(message, secret),
        kind=kind,
        status_code=status_code,
        retryable=retryable,
        retry_after_s=retry_after,
    )


def _format_seconds(seconds: float) -> str:
    return f"{seconds:.0f}s" if seconds >= 10 else f"{seconds:.3g}s"


def classify_status(status_code: int) -> tuple[str, bool]:
    """`(kind, retryable)` for an HTTP error status."""
    if status_code in (401, 403):
        return "auth", False
    if status_code == 404:
        return "not_found", False
    if status_code == 408:
        return "timeout", True
    if status_code == 429:
        return "rate_limit", True
    if status_code >= 500:
        return "server", True
    if status_code in (400, 413, 422):
        return "bad_request", False
    return "other", False


def timeout_error(provider_name: str, timeout_s: float) -> ProviderError:
    """The error for a request that got no complete answer within `timeout_s`."""
    return ProviderError(
        f"provider '{provider_name}' did not answer within {timeout_s:g}s"
        " — raise timeout_s or check the server",
        kind="timeout",
        retryable=True,
    )


def connection_error(
    provider_name: str, target: str, detail: str, secret: str | None
) -> ProviderError:
    """The error for a request that never got an answer (refused, reset, closed)."""
    message = f"cannot reach provider '{provider_name}' at {target}: {detail} — is the server up?"
    return ProviderError(scrub_text(message, secret), kind="connection", retryable=True)


def bad_response_error(
    provider_name: str, problem: str, status_code: int | None, secret: str | None
) -> ProviderError:
    """The error for a successful status whose body is unusable (garbage, no content)."""
    return ProviderError(
        scrub_text(f"provider '{provider_name}' sent an unusable response: {problem}", secret),
        kind="other",
        status_code=status_code,
        retryable=False,
    )


def response_too_large_error(
    provider_name: str, size: int | None, status_code: int, secret: str | None
) -> ProviderError:
    """The error for a successful response longer than `MAX_RESPONSE_BYTES` (`size` is the
    declared length, None when reading stopped at the limit)."""
    measured = f"{size:,} bytes" if size is not None else "longer than that"
    problem = (f"the response is {measured}, over the {MAX_RESPONSE_BYTES:,}-byte limit"
               " — lower max_tokens or check the server")
    return bad_response_error(provider_name, problem, status_code, secret)


def load_json_object(
    provider_name: str, body: bytes, status_code: int, secret: str | None
) -> dict[str, Any]:
    """The JSON object in a successful response's `body`, or a clear `ProviderError`.

    A body over `MAX_RESPONSE_BYTES` is refused: no configured `max_tokens` asks for that
    much, and its content would become a frame (and part of its parent's prompt).
    """
    if len(body) > MAX_RESPONSE_BYTES:
        raise response_too_large_error(provider_name, len(body), status_code, secret)
    try:
        data = json.loads(body)
    except ValueError:
        preview = _clean(body[:4096].decode("utf-8", "replace"), secret, limit=80)
        problem = f"the body is not JSON ({preview!r})" if preview else "the body is empty"
        raise bad_response_error(provider_name, problem, status_code, secret) from None
    if not isinstance(data, dict):
        problem = f"expected a JSON object, got {type(data).__name__}"
        raise bad_response_error(provider_name, problem, status_code, secret)
    if data.get("error"):
        problem = f"error in a successful response: {error_detail(data, secret)}"
        raise bad_response_error(provider_name, problem, status_code, secret)
    return data


def optional_int(value: object) -> int | None:
    """`value` if it is a non-negative integer (not a bool), else None."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None
