"""Provider configs, built-in providers, API key resolution and `create_provider`."""

from __future__ import annotations

import pytest

from contextree.engine.providers.base import (
    BUILTIN_PROVIDERS,
    PLACEHOLDER_API_KEY,
    ProviderConfig,
    create_provider,
    resolve_api_key,
)
from contextree.engine.providers.local.provider import LocalProvider
from contextree.errors import ConfigError, ProviderError

KEY = "sk-canary-1c2d3e4f5a6b7c8d9e0f"


def test_builtin_providers_are_local_openai_and_anthropic() -> None:
    assert BUILTIN_PROVIDERS["local"].type == "local"
    assert BUILTIN_PROVIDERS["local"].model == "local-summarizer-1"
    assert BUILTIN_PROVIDERS["openai"].model == "gpt-4o-mini"
    assert BUILTIN_PROVIDERS["openai"].api_key_env == "OPENAI_API_KEY"
    assert BUILTIN_PROVIDERS["anthropic"].model == "claude-3-5-haiku-latest"
    assert BUILTIN_PROVIDERS["anthropic"].api_key_env == "ANTHROPIC_API_KEY"
    assert all(name == config.name for name, config in BUILTIN_PROVIDERS.items())


def test_config_defaults() -> None:
    config = ProviderConfig(name="x", type="openai", model="m")

    assert (config.timeout_s, config.max_concurrency, config.max_tokens) == (60, 4, 1024)
    assert config.requests_per_minute is None and config.temperature is None


def test_key_comes_from_the_variable_named_by_api_key_env() -> None:
    config = ProviderConfig(name="myllm", type="openai", model="m", api_key_env="MYLLM_KEY")

    assert resolve_api_key(config, {"MYLLM_KEY": KEY, "OPENAI_API_KEY": "other"}) == KEY


@pytest.mark.parametrize(
    ("provider_type", "variable"),
    [("openai", "OPENAI_API_KEY"), ("anthropic", "ANTHROPIC_API_KEY")],
)
def test_key_falls_back_to_the_standard_variable(provider_type: str, variable: str) -> None:
    config = ProviderConfig(name="p", type=provider_type, model="m")

    assert resolve_api_key(config, {variable: KEY}) == KEY


def test_explicit_api_key_env_never_falls_back_to_another_servers_key() -> None:
    config = ProviderConfig(
        name="myllm", type="openai", model="m", base_url="http://x/v1", api_key_env="MYLLM_KEY"
    )

    with pytest.raises(ProviderError) as caught:
        resolve_api_key(config, {"OPENAI_API_KEY": KEY})

    assert caught.value.kind == "auth"
    assert "MYLLM_KEY" in str(caught.value)
    assert KEY not in str(caught.value)


@pytest.mark.parametrize("provider_type", ["openai", "anthropic"])
def test_missing_key_says_which_variable_to_set(provider_type: str) -> None:
    config = ProviderConfig(name="cloud", type=provider_type, model="m")

    with pytest.raises(ProviderError) as caught:
        resolve_api_key(config, {"UNRELATED": "1"})

    standard = "OPENAI_API_KEY" if provider_type == "openai" else "ANTHROPIC_API_KEY"
    message = str(caught.value)
    assert caught.value.kind == "auth" and not caught.value.retryable
    assert f"set {standard}" in message
    assert "api_key_env in [providers.cloud]" in message


def test_blank_key_counts_as_missing() -> None:
    config = ProviderConfig(name="p", type="anthropic", model="m")

    with pytest.raises(ProviderError):
        resolve_api_key(config, {"ANTHROPIC_API_KEY": "   "})


def test_openai_compatible_server_with_base_url_needs_no_key() -> None:
    config = ProviderConfig(name="ollama", type="openai", model="m", base_url="http://h/v1")

    assert resolve_api_key(config, {}) == PLACEHOLDER_API_KEY


def test_anthropic_with_base_url_still_needs_a_key() -> None:
    config = ProviderConfig(name="a", type="anthropic", model="m", base_url="http://h")

    with pytest.raises(ProviderError):
        resolve_api_key(config, {})


def test_local_provider_needs_no_key() -> None:
    assert resolve_api_key(BUILTIN_PROVIDERS["local"], {}) is None


async def test_create_provider_builds_the_local_provider_from_config() -> None:
    provider = create_provider(BUILTIN_PROVIDERS["local"], environ={})

    assert isinstance(provider, LocalProvider)
    assert (provider.name, provider.type, provider.model) == (
        "local", "local", "local-summarizer-1"
    )
    await provider.aclose()


@pytest.mark.parametrize("provider_type", ["openai", "anthropic"])
async def test_create_provider_keeps_the_key_out_of_repr(provider_type: str) -> None:
    config = ProviderConfig(name="p", type=provider_type, model="m", api_key_env="K")

    provider = create_provider(config, environ={"K": KEY})

    assert (provider.name, provider.type, provider.model) == ("p", provider_type, "m")
    assert KEY not in repr(provider) and KEY not in str(provider)
    assert KEY not in repr(vars(provider))
    await provider.aclose()


def test_create_provider_without_key_fails_before_any_request() -> None:
    with pytest.raises(ProviderError) as caught:
        create_provider(BUILTIN_PROVIDERS["openai"], environ={})

    assert caught.value.kind == "auth"
    assert "OPENAI_API_KEY" in str(caught.value)


def test_unknown_provider_type_is_a_config_error_naming_the_choices() -> None:
    config = ProviderConfig(name="weird", type="gemini", model="m")

    with pytest.raises(ConfigError) as caught:
        create_provider(config, environ={})

    assert "gemini" in str(caught.value)
    assert "local, openai, anthropic" in str(caught.value)


@pytest.mark.parametrize("provider_type", ["openai", "anthropic"])
@pytest.mark.parametrize(
    "base_url", ["localhost:11434/v1", "ftp://host/v1", "", "http://:80/v1", "http://256.1.1.1/v1"]
)
def test_malformed_base_url_is_a_config_error(provider_type: str, base_url: str) -> None:
    config = ProviderConfig(name="srv", type=provider_type, model="m", base_url=base_url)

    with pytest.raises(ConfigError) as caught:
        create_provider(config, environ={"OPENAI_API_KEY": KEY, "ANTHROPIC_API_KEY": KEY})

    assert "base_url" in str(caught.value) and "[providers.srv]" in str(caught.value)
    assert KEY not in str(caught.value)
