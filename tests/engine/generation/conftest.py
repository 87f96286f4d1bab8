"""Fixtures for the generation tests: a workspace on disk, a real store, a checked emitter,
the fake LLM server and configs aimed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.fakes.llm_server import FakeLLMServer

from contextree.engine.workspace.config import Config, load_config
from contextree.engine.workspace.layout import Workspace, init_workspace
from contextree.progress import EventStore

from .helpers import SAMPLE_TREE, CheckedEmitter, FakeClock, write_tree

CANARY_KEY = "sk-canary-5d2e8f1a9b3c7d4e6f0a1b2c3d4e5f6a"
KEY_VARIABLE = "CTREE_TEST_GENERATION_KEY"


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.setenv("CTREE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CTREE_STORE", raising=False)
    root = tmp_path / "ws"
    root.mkdir()
    write_tree(root, SAMPLE_TREE)
    workspace = Workspace(root=root.resolve(), store_path=root.resolve() / ".ctree" / "store")
    init_workspace(workspace)
    return workspace


@pytest.fixture
def store(workspace: Workspace) -> Iterator[EventStore]:
    opened = EventStore.open(workspace.store_path)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def emitter() -> CheckedEmitter:
    return CheckedEmitter()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def llm_server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        yield server


ConfigureProvider = Callable[..., Config]


@pytest.fixture
def remote_config(
    workspace: Workspace, llm_server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> ConfigureProvider:
    """`remote_config(wire, **settings)`: make `fake` (of that wire format, aimed at the fake
    server) the workspace's default provider and return the loaded config."""

    def configure(wire: str, **settings: object) -> Config:
        base_url = llm_server.openai_base_url if wire == "openai" else llm_server.url
        table = {"type": wire, "base_url": base_url, "model": "fake-model",
                 "api_key_env": KEY_VARIABLE, "timeout_s": 5, **settings}
        lines = ['[defaults]', 'provider = "fake"', '', '[providers.fake]']
        lines += [f"{key} = {_toml(value)}" for key, value in table.items()]
        workspace.config_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        monkeypatch.setenv(KEY_VARIABLE, CANARY_KEY)
        return load_config(workspace)

    return configure


def _toml(value: object) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
