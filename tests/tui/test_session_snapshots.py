"""Screenshots of the session view at 80×24, 120×40 and 200×50 (fixed ids, frozen clock).

A run in flight (rows in flight on top, the metrics in the header below 140 columns), a run
that ended with failures (opened on its first failure), and the full error of a node.
"""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from tests.tui.conftest import AppFactory, wait_until
from tests.tui.test_snapshots import FAILING, SnapCompare, loaded, sessions

__all__ = ["sessions"]  # the fixture, shared with the other screenshots

SIZES = [(80, 24), (120, 40), (200, 50)]
SIZE_IDS = ["80x24", "120x40", "200x50"]


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_session_in_flight(snap_compare: SnapCompare, make_app: AppFactory,
                           sessions: dict[str, str], size: tuple[int, int]) -> None:
    app = make_app(session_id=sessions["active"])
    assert snap_compare(app, terminal_size=size, run_before=loaded(active=True))


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_session_ended_with_failures(snap_compare: SnapCompare, make_app: AppFactory,
                                     sessions: dict[str, str], size: tuple[int, int]) -> None:
    app = make_app(session_id=sessions["failed"])
    assert snap_compare(app, terminal_size=size, run_before=loaded())


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_session_scan_metrics_sizes(snap_compare: SnapCompare, make_app: AppFactory,
                                    sessions: dict[str, str], size: tuple[int, int]) -> None:
    app = make_app(session_id=sessions["scan"])
    assert snap_compare(app, terminal_size=size, run_before=loaded())


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_session_error_screen(snap_compare: SnapCompare, make_app: AppFactory,
                              sessions: dict[str, str], size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await loaded()(pilot)
        view: Any = pilot.app.session_view  # type: ignore[attr-defined]
        await wait_until(pilot, lambda: view.query_one("NodeList").highlighted_path == FAILING,
                         "landed on the failure")
        await pilot.press("enter")
        await wait_until(pilot, lambda: pilot.app.screen.query("#error-text"), "error screen")

    app = make_app(session_id=sessions["failed"])
    assert snap_compare(app, terminal_size=size, run_before=run_before)
