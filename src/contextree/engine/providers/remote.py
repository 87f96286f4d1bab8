"""What the SDK-backed providers share: identity, the hidden key, bounded reads and errors.

`RemoteProvider` keeps the API key in a `Secret` (so no repr shows it), reads a streamed
response body only up to `MAX_RESPONSE_BYTES` (memory stays bounded whatever the server
sends) and turns the facts of a failure (status, headers, body, cause) into `ProviderError`s
through `http_errors`; each subclass only says which of its SDK's exceptions carries which fact.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, Protocol

from contextree.engine.providers.base import STANDARD_KEY_VARIABLES, ProviderConfig
from contextree.engine.providers.http_errors import (
    MAX_RESPONSE_BYTES,
    bad_response_error,
    connection_error,
    error_detail,
    load_json_object,
    response_too_large_error,
    status_error,
    timeout_error,
)
from contextree.errors import ConfigError, ProviderError
from contextree.secrets import Secret, scrub_text


class StreamedResponse(Protocol):
    """What both SDKs' streaming raw responses offer: status, headers and body chunks."""

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    def iter_bytes(self) -> AsyncIterator[bytes]: ...


class RemoteProvider:
    """Base of the providers that call a server through an official SDK."""

    def __init__(self, config: ProviderConfig, *, api_key: str) -> None:
        self.name = config.name
        self.type = config.type
        self.model = config.model
        self._config = config
        self._secret = Secret(api_key)

    @property
    def target(self) -> str:
        """The base URL requests go to."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(name={self.name!r}, model={self.model!r},"
            f" base_url={self.target!r})"
        )

    def _setup_error(self, exc: Exception) -> ConfigError:
        detail = scrub_text(str(exc) or type(exc).__name__, self._secret.reveal())
        return ConfigError(
            f"provider '{self.name}' cannot be set up: {detail}"
            f" — check base_url in [providers.{self.name}]"
        )

    async def _read_limited(self, response: StreamedResponse) -> bytes:
        """The body of a streamed `response`, read chunk by chunk and refused as soon as it
        passes `MAX_RESPONSE_BYTES` (the rest is never read; closing drops the connection)."""
        declared = _declared_length(response.headers)
        if declared is not None and declared > MAX_RESPONSE_BYTES:
            raise self._too_large(declared, response.status_code)
        body = bytearray()
        try:
            async for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_RESPONSE_BYTES:
                    break
        except Exception as exc:  # the SDK's transport raises its own types mid-body
            raise self._read_error(exc) from None
        if len(body) > MAX_RESPONSE_BYTES:
            raise self._too_large(None, response.status_code)
        return bytes(body)

    def _too_large(self, size: int | None, status_code: int) -> ProviderError:
        return response_too_large_error(self.name, size, status_code, self._secret.reveal())

    def _read_error(self, exc: Exception) -> ProviderError:
        if isinstance(exc, TimeoutError) or "Timeout" in type(exc).__name__:
            return self._timeout_error()
        return self._connection_error(exc, f"the body was cut off ({type(exc).__name__})")

    def _read_body(self, content: bytes, status_code: int) -> dict[str, Any]:
        return load_json_object(self.name, content, status_code, self._secret.reveal())

    def _timeout_error(self) -> ProviderError:
        return timeout_error(self.name, self._config.timeout_s)

    def _connection_error(self, exc: BaseException, fallback: str) -> ProviderError:
        cause = exc.__cause__ or exc.__context__
        detail = str(cause) if cause is not None and str(cause) else fallback
        return connection_error(self.name, self.target, detail, self._secret.reveal())

    def _status_error(
        self, status_code: int, headers: Mapping[str, str], body: object
    ) -> ProviderError:
        return status_error(
            self.name,
            status_code,
            headers=headers,
            detail=error_detail(body, self._secret.reveal()),
            secret=self._secret.reveal(),
            fix_hint=self._fix_hint(status_code),
        )

    def _bad_response(self, problem: str, status_code: int) -> ProviderError:
        return bad_response_error(self.name, problem, status_code, self._secret.reveal())

    def _unexpected_error(self, exc: BaseException) -> ProviderError:
        message = f"provider '{self.name}' failed: {type(exc).__name__}: {exc}"
        return ProviderError(scrub_text(message, self._secret.reveal()), kind="other")

    def _fix_hint(self, status_code: int) -> str:
        if status_code in (401, 403):
            variable = self._config.api_key_env or STANDARD_KEY_VARIABLES.get(self.type, "")
            return f"check the key in {variable}"
        if status_code == 404:
            return f"check model '{self.model}' and base_url ({self.target})"
        return f"check the request settings of [providers.{self.name}]"


def _declared_length(headers: Mapping[str, str]) -> int | None:
    """The body length the server declared, if it did (and sent the body unencoded)."""
    value = headers.get("content-length", "")
    if not value.isdigit() or headers.get("content-encoding"):
        return None
    return int(value)
