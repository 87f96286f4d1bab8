"""Fixtures for the workspace engine: real temp workspaces, a real store, a recording emitter."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from contextree.engine.workspace.config import Config, load_config
from contextree.engine.workspace.layout import Workspace
from contextree.progress import EventStore

from .helpers import RecordingEmitter


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return load_config(None, user_path=tmp_path / "no-user-config.toml")


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.setenv("CTREE_HOME", str(tmp_path / "home"))
    root = tmp_path / "ws"
    root.mkdir()
    return Workspace(root=root.resolve(), store_path=tmp_path / "store")


@pytest.fixture
def store(workspace: Workspace) -> Iterator[EventStore]:
    opened = EventStore.open(workspace.store_path)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def emitter() -> RecordingEmitter:
    return RecordingEmitter()
