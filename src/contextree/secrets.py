"""Secret scrubbing: no API key, token or password ever reaches the store, a log or a message.

A process registers the secrets it holds (`register_secret`, e.g. each provider's API key);
`scrub_payload` removes them from an encoded event payload, `scrub_text` from any text, along
with credentials recognisable by their shape (bearer and basic tokens, a URL's
`user:password@`, `api_key=...`). `Secret` wraps a value so that no repr shows it.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

REDACTED = "[redacted]"
MIN_SECRET_CHARS = 4
"""Shorter values are not registered: replacing them would redact ordinary text."""

_BEARER = re.compile(r"(?i)\b(bearer\s+)[^\s\"',}]+")
_BASIC = re.compile(r"(?i)\b(basic\s+)[A-Za-z0-9+/]{8,}=*")  # base64 of user:password
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s\"']*@")
_KEY_ASSIGNMENT = re.compile(r"(?i)\b((?:x-)?api[-_]?key[\"']?\s*[:=]\s*[\"']?)[^\s\"',}]+")

_encoder = msgspec.json.Encoder()
_secrets: list[bytes] = []
"""Each registered secret as it appears inside an encoded JSON string (escapes applied)."""


class Secret:
    """A value (an API key) that prints as `[redacted]`; `reveal()` gives it back."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({REDACTED!r})"

    __str__ = __repr__


def register_secret(value: str) -> None:
    """Never let `value` (an API key, a token) reach the store: it is redacted from payloads."""
    if len(value) < MIN_SECRET_CHARS:
        return
    encoded = _encoder.encode(value)[1:-1]
    if encoded not in _secrets:
        _secrets.append(encoded)


def has_registered_secrets() -> bool:
    return bool(_secrets)


def scrub_payload(payload: bytes) -> bytes:
    """An encoded JSON payload with every registered secret replaced by `[redacted]` (the same
    object when there is none to replace).

    The bytes only tell whether a secret may be there; the replacement is made in the decoded
    strings (keys and values). A byte match can begin inside an escape sequence (a key of
    zeros after the `\\u0000` of a NUL), and replacing it there would break the JSON and
    leave part of the secret behind.
    """
    found = [secret for secret in _secrets if secret in payload]
    if not found:
        return payload
    texts = [str(msgspec.json.decode(b'"' + secret + b'"')) for secret in found]
    return _encoder.encode(_scrub_value(msgspec.json.decode(payload), texts))


def redact_registered(text: str) -> str:
    """`text` with every registered secret replaced: a reply that echoes a key must not carry
    it into the store."""
    if not _secrets:
        return text
    encoded = _encoder.encode(text)
    scrubbed = scrub_payload(encoded)
    return text if scrubbed is encoded else str(msgspec.json.decode(scrubbed))


def scrub_text(text: str, secret: str | None = None) -> str:
    """`text` without `secret`, bearer and basic credentials, a URL's `user:password@` or
    `api_key=...` values."""
    if secret and len(secret) >= MIN_SECRET_CHARS:
        text = text.replace(secret, REDACTED)
    if not _may_hold_credentials(text):
        return text
    text = _BEARER.sub(lambda match: match.group(1) + REDACTED, text)
    text = _BASIC.sub(lambda match: match.group(1) + REDACTED, text)
    text = _URL_USERINFO.sub(lambda match: match.group(1) + REDACTED + "@", text)
    return _KEY_ASSIGNMENT.sub(lambda match: match.group(1) + REDACTED, text)


def _may_hold_credentials(text: str) -> bool:
    """False only when none of the patterns above can match: each needs its word (`bearer`,
    `basic`, `@`, `api`). Checked on ASCII text only: under `(?i)` a few other characters
    match ASCII letters (`ı` matches `i`), so any other text takes the full scrub."""
    if not text.isascii():
        return True
    lowered = text.lower()
    return "@" in text or "api" in lowered or "bearer" in lowered or "basic" in lowered


def redact_url(url: str) -> str:
    """`url` with any `user:password@` part replaced."""
    return re.sub(r"//[^/@]*@", f"//{REDACTED}@", url, count=1)


def _scrub_value(value: Any, texts: list[str]) -> Any:
    if isinstance(value, str):
        for text in texts:
            value = value.replace(text, REDACTED)
        return value
    if isinstance(value, dict):
        return {_scrub_value(key, texts): _scrub_value(item, texts) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrub_value(item, texts) for item in value]
    return value
