"""The dashboard, the history and the content browser at 80×24, 120×40 and 200×50.

80×24 is a first-class size: the footer keeps `:`, `?`, `q` and the view keys, numbers are
never cut, ids shorten to a unique prefix, the freshness meter stays. Same data, frozen clock
and fixed ids as `test_snapshots`; update with `--snapshot-update` after looking at the SVGs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.tui.conftest import AppFactory, wait_until
from tests.tui.test_snapshots import SnapCompare, compare_content_view
from tests.tui.test_snapshots import sessions as sessions  # the fixture

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40"),
         pytest.param((200, 50), id="200x50")]


@pytest.mark.parametrize("size", SIZES)
def test_dashboard_at(size: tuple[int, int], snap_compare: SnapCompare, make_app: AppFactory,
                      sessions: dict[str, str]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app: Any = pilot.app
        await wait_until(pilot, lambda: app.dashboard.snapshot is not None, "the snapshot")
        await pilot.pause()

    assert snap_compare(make_app(auto_follow=False), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_history_at(size: tuple[int, int], snap_compare: SnapCompare, make_app: AppFactory,
                    sessions: dict[str, str]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app: Any = pilot.app
        await wait_until(pilot, lambda: app.history.snapshot is not None, "the snapshot")
        await pilot.pause()

    assert snap_compare(make_app(view="history"), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_content_at(size: tuple[int, int], snap_compare: SnapCompare, tmp_path: Path) -> None:
    assert compare_content_view(snap_compare, tmp_path, size, review_frame=False)
