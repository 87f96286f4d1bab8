"""The provider contract: one request in, one markdown response out, or a `ProviderError`.

A `ProviderConfig` names a provider and how to reach it; `create_provider` turns it into a
`Provider`. Providers are pure: they emit no events and never retry (the queue does both), and
an API key lives only inside the SDK client, never in a message, repr or event.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit

from contextree.errors import ConfigError, ProviderError

PROVIDER_TYPES = ("local", "openai", "anthropic")
STANDARD_KEY_VARIABLES = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}
PLACEHOLDER_API_KEY = "not-needed"
EXAMPLE_BASE_URLS = {"openai": "http://127.0.0.1:8080/v1", "anthropic": "https://api.anthropic.com"}


@dataclass(frozen=True)
class ProviderConfig:
    """How to reach one provider; `api_key_env` names the variable holding the key."""

    name: str
    type: str
    model: str
    base_url: str | None = None
    api_key_env: str | None = None
    timeout_s: float = 60
    max_concurrency: int = 4
    requests_per_minute: int | None = None
    max_tokens: int = 1024
    temperature: float | None = None


BUILTIN_PROVIDERS: dict[str, ProviderConfig] = {
    "local": ProviderConfig(name="local", type="local", model="local-summarizer-1"),
    "openai": ProviderConfig(
        name="openai", type="openai", model="gpt-4o-mini", api_key_env="OPENAI_API_KEY"
    ),
    "anthropic": ProviderConfig(
        name="anthropic",
        type="anthropic",
        model="claude-3-5-haiku-latest",
        api_key_env="ANTHROPIC_API_KEY",
    ),
}


LEFT_OUT = "left-out"  # the node_type of a child the tree leaves out (a name not UTF-8)


@dataclass(frozen=True)
class ChildSummary:
    """A child of a directory and its head frame's markdown (None when it has none).

    A child whose `node_type` is `LEFT_OUT` is on disk but not in the tree; its name may hold
    lone surrogates (bytes that are not UTF-8), which a provider must escape before use.
    """

    name: str
    path: str
    node_type: str
    content: str | None


@dataclass(frozen=True)
class GenerationRequest:
    """Everything a provider needs to write one node's context frame.

    `path` is workspace-relative POSIX (`.` for the root); `user_prompt` is already rendered
    and, for a file, holds its text; `file_text` is that text (possibly truncated) for
    providers that read the file directly; `binary_head` is the start of a binary file, for
    telling its format.
    """

    path: str
    node_type: str
    system_prompt: str
    user_prompt: str
    file_text: str | None
    file_size: int
    is_binary: bool
    truncated: bool
    children: tuple[ChildSummary, ...] = ()
    binary_head: bytes = b""


@dataclass(frozen=True)
class GenerationResponse:
    """A generated frame's markdown, the model that wrote it and its token counts."""

    content: str
    model: str
    input_tokens: int | None
    output_tokens: int | None


class Provider(Protocol):
    """What the queue calls: `generate` once per attempt, `aclose` once at the end."""

    name: str
    type: str
    model: str

    async def generate(self, request: GenerationRequest) -> GenerationResponse:
        """Write the frame for `request`, or raise `ProviderError`."""
        ...

    async def aclose(self) -> None:
        """Release connections; the provider is not used afterwards."""
        ...


@runtime_checkable
class InProcessProvider(Protocol):
    """A provider whose answer is a quick computation in this process, with nothing to wait
    for (the built-in `local` one). The queue calls `generate_now` on its event loop and
    builds the request there too: under the GIL a worker thread would add two hand-offs per
    node and no parallelism."""

    def generate_now(self, request: GenerationRequest) -> GenerationResponse:
        """Write the frame for `request` at once, or raise `ProviderError`."""
        ...


def create_provider(
    config: ProviderConfig, *, environ: Mapping[str, str] = os.environ
) -> Provider:
    """Build the provider `config` describes, reading its API key from `environ`."""
    if config.type == "local":
        from contextree.engine.providers.local.provider import LocalProvider

        return LocalProvider(config)
    if config.type not in STANDARD_KEY_VARIABLES:
        raise ConfigError(
            f"provider '{config.name}' has unknown type '{config.type}'"
            f" — use one of {', '.join(PROVIDER_TYPES)} in [providers.{config.name}]"
        )
    check_base_url(config)
    api_key = _key_for(config, environ)
    if config.type == "openai":
        from contextree.engine.providers.openai_provider import OpenAIProvider

        return OpenAIProvider(config, api_key=api_key)
    from contextree.engine.providers.anthropic_provider import AnthropicProvider

    return AnthropicProvider(config, api_key=api_key)


def check_base_url(config: ProviderConfig) -> None:
    """Raise `ConfigError` unless `base_url` is absent or an http(s) URL with a host."""
    if config.base_url is None:
        return
    try:
        parts = urlsplit(config.base_url)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:
        valid = False
    if not valid:
        example = EXAMPLE_BASE_URLS.get(config.type, "https://host")
        raise ConfigError(
            f"provider '{config.name}' has an invalid base_url '{config.base_url}'"
            f" — use a full URL such as {example} in [providers.{config.name}]"
        )


def resolve_api_key(config: ProviderConfig, environ: Mapping[str, str]) -> str | None:
    """The API key for `config`, or None for a provider type that needs none.

    A key comes from the variable `api_key_env` names; without `api_key_env`, from the
    standard variable of the provider type. An explicit `api_key_env` never falls back to the
    standard variable, so one server's key is never sent to another. An OpenAI-compatible
    server with a `base_url` may need no key (Ollama, llama.cpp): it gets a placeholder.
    A missing key is a `ProviderError` of kind `auth` naming the variable to set.
    """
    if config.type not in STANDARD_KEY_VARIABLES:
        return None
    return _key_for(config, environ)


def _key_for(config: ProviderConfig, environ: Mapping[str, str]) -> str:
    variable = config.api_key_env or STANDARD_KEY_VARIABLES[config.type]
    key = environ.get(variable, "").strip()
    if key:
        return key
    if config.type == "openai" and config.base_url and not config.api_key_env:
        return PLACEHOLDER_API_KEY
    raise ProviderError(_missing_key_message(config, variable), kind="auth")


def _missing_key_message(config: ProviderConfig, variable: str) -> str:
    if config.api_key_env:
        return (
            f"provider '{config.name}' needs an API key — set {variable}"
            f" (named by api_key_env in [providers.{config.name}])"
        )
    return (
        f"provider '{config.name}' needs an API key — set {variable}"
        f" or api_key_env in [providers.{config.name}]"
    )
