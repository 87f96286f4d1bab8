"""Fixtures for provider tests: the fake LLM server and providers pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from tests.fakes.llm_server import FakeLLMServer

from contextree.engine.providers.base import Provider, ProviderConfig, create_provider

CANARY_KEY = "sk-canary-7f3a9c2e5b1d4f6a8c0e2b4d6f8a0c2e"
KEY_VARIABLE = "CTREE_TEST_LLM_KEY"
MODEL = "model-under-test"

ProviderFactory = Callable[..., Provider]


@pytest.fixture
def canary_key() -> str:
    """The API key every fake-server provider uses; it must never show up in an error."""
    return CANARY_KEY


@pytest.fixture
def llm_server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        yield server


@pytest.fixture
async def make_provider(llm_server: FakeLLMServer) -> AsyncIterator[ProviderFactory]:
    """`make_provider(wire, **config_overrides)`: a provider aimed at the fake server."""
    created: list[Provider] = []

    def factory(wire: str, **overrides: Any) -> Provider:
        base_url = llm_server.openai_base_url if wire == "openai" else llm_server.url
        settings: dict[str, Any] = {
            "name": f"fake-{wire}",
            "type": wire,
            "model": MODEL,
            "base_url": base_url,
            "api_key_env": KEY_VARIABLE,
            "timeout_s": 5.0,
        }
        settings.update(overrides)
        provider = create_provider(ProviderConfig(**settings), environ={KEY_VARIABLE: CANARY_KEY})
        created.append(provider)
        return provider

    yield factory
    for provider in created:
        await provider.aclose()
