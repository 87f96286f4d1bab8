"""What the SDK-backed providers share: identity, the hidden key and error building.

`RemoteProvider` keeps the API key in a `Secret` (so no repr shows it) and turns the facts of
a failure (status, headers, body, cause) into `ProviderError`s through `http_errors`; each
subclass only says which of its SDK's exceptions carries which fact.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from contextree.engine.providers.base import STANDARD_KEY_VARIABLES, ProviderConfig
from contextree.engine.providers.http_errors import (
    bad_response_error,
    connection_error,
    error_detail,
    load_json_object,
    status_error,
    timeout_error,
)
from contextree.errors import ConfigError, ProviderError
from contextree.secrets import Secret, scrub_text


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
