"""Every CLI test runs without the user's own configuration or store."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def user_config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the user's configuration, or a store named by the environment."""
    monkeypatch.setenv("CTREE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CTREE_STORE", raising=False)
