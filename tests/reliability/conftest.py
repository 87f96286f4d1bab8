"""`--long` reaches the Hypothesis settings too: they are fixed when a module is imported,
before any fixture runs, so the option is turned into `CTREE_LONG=1` as soon as pytest is
configured (the root conftest's `long_mode` fixture reads either)."""

from __future__ import annotations

import os

import pytest


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--long", default=False):
        os.environ["CTREE_LONG"] = "1"
