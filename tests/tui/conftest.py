"""Fixtures for the TUI tests: a real store, an app over it with a frozen clock, and waiting."""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from contextree.engine.workspace.layout import Workspace
from contextree.progress import EventStore
from contextree.tui.app import CtreeApp
from tests.tui.synthetic import T0

FROZEN_NOW = T0 + 3600.0
_TERMINAL_ID = re.compile(r"terminal-\d+")
DEMO_WORKSPACE = Workspace(root=Path("/work/demo"), store_path=Path("/work/demo/.ctree/store"))


@pytest.fixture(autouse=True)
def user_config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the user's own configuration."""
    monkeypatch.setenv("CTREE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CTREE_STORE", raising=False)


@pytest.fixture(autouse=True)
def utc_local_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The TUI shows local time: the tests' local time is UTC, whatever the machine's."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def store(store_path: Path) -> Iterator[EventStore]:
    opened = EventStore.open(store_path)
    try:
        yield opened
    finally:
        opened.close()


AppFactory = Callable[..., CtreeApp]
RunBefore = Callable[[Pilot[Any]], Awaitable[None]]


@pytest.fixture
def snap_compare(snap_compare: Callable[..., bool]) -> Callable[..., bool]:
    """The plugin's `snap_compare`, taking its screenshot only once the screen has settled
    after the test's own `run_before` (its toasts gone, no cursor blinking), on every
    snapshot test."""

    def compare(app: CtreeApp, *, run_before: RunBefore | None = None, **options: Any) -> bool:
        async def settled(pilot: Pilot[Any]) -> None:
            if run_before is not None:
                await run_before(pilot)
            for field in pilot.app.query(Input):
                field.cursor_blink = False  # a blink is a wall-clock timer, like a toast
            await wait_until_steady(pilot, "the screen")

        return snap_compare(app, run_before=settled, **options)

    return compare


@pytest.fixture
def make_app(store: EventStore) -> AppFactory:
    """An app over the test store, showing the demo workspace, its clock frozen unless given."""

    def make(**options: Any) -> CtreeApp:
        options.setdefault("workspace", DEMO_WORKSPACE)
        options.setdefault("clock", lambda: FROZEN_NOW)
        return CtreeApp(store=store, **options)

    return make


async def wait_until(pilot: Pilot[Any], condition: Callable[[], object], what: str,
                     timeout: float = 60.0) -> None:
    """Let the app run until `condition()` holds (the UI state, not a fixed sleep). The
    timeout is generous: it only bounds a hang, on a machine however loaded."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.01)


async def wait_until_steady(pilot: Pilot[Any], what: str, *, repeats: int = 3,
                            timeout: float = 60.0) -> None:
    """Let the app run until its screen renders the same `repeats` times in a row: a layout
    that settles over several refreshes (a wrap that adds a scrollbar, a footer that
    recomposes) is finished before a screenshot is taken, however loaded the machine.
    Toasts are dismissed first: each lives for a wall-clock time, so whether one is still
    on screen would depend on the machine's speed."""
    pilot.app.clear_notifications()
    deadline = time.monotonic() + timeout
    previous, same = None, 0
    while same < repeats:
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what} to settle")
        await pilot.pause(0.01)
        screen = _TERMINAL_ID.sub("", pilot.app.export_screenshot())
        same = same + 1 if screen == previous else 0
        previous = screen
