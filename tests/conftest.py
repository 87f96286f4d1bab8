"""Shared fixtures: a real store in a temporary directory, and a runtime over it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from contextree.progress import ProgressRuntime


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def runtime(store_path: Path) -> Iterator[ProgressRuntime]:
    rt = ProgressRuntime.open(store_path)
    try:
        yield rt
    finally:
        rt.close()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--long", action="store_true",
                     help="run the reliability matrix and stress tests in full (soak)")


@pytest.fixture
def long_mode(request: pytest.FixtureRequest) -> bool:
    """True under `--long` (or CTREE_LONG=1): stress tests run at full size."""
    import os

    return bool(request.config.getoption("--long")) or os.environ.get("CTREE_LONG") == "1"
