"""Every view at 80×24, 120×40 and 200×50 (the session view's own in test_session_snapshots).

The dashboard, the history, the content browser, a paused replay, a node's detail with its
retry timing, the help and a command's output.

80×24 is a first-class size: the footer keeps `:`, `?`, `q` and the view keys, numbers are
never cut, ids shorten to a unique prefix, the freshness meter stays. Same data, frozen clock
and fixed ids as `test_snapshots`; update with `--snapshot-update` after looking at the SVGs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from contextree.tui.commands import CommandResult
from contextree.tui.widgets.output_screen import OutputScreen
from tests.tui.conftest import AppFactory, wait_until, wait_until_steady
from tests.tui.test_snapshots import (
    RETRIED,
    SnapCompare,
    compare_content_view,
    loaded,
    replay_paused_at_the_retried_node,
)
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


@pytest.mark.parametrize("size", SIZES)
def test_replay_at(size: tuple[int, int], snap_compare: SnapCompare, make_app: AppFactory,
                   sessions: dict[str, str]) -> None:
    app = make_app(replay_id=sessions["failed"], speed=0.01)
    assert snap_compare(app, terminal_size=size, run_before=replay_paused_at_the_retried_node)


@pytest.mark.parametrize("size", SIZES)
def test_node_detail_at(size: tuple[int, int], snap_compare: SnapCompare,
                        make_app: AppFactory, sessions: dict[str, str]) -> None:
    # a node that succeeded on its second attempt: every attempt and the backoff between
    app = make_app(session_id=sessions["failed"])
    assert snap_compare(app, terminal_size=size, run_before=loaded(select=RETRIED))


@pytest.mark.parametrize("size", SIZES)
def test_help_at(size: tuple[int, int], snap_compare: SnapCompare, make_app: AppFactory,
                 sessions: dict[str, str]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await loaded()(pilot)  # the session view's keys first, then the global ones
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: pilot.app.screen.query("#help"), "the help")
        await wait_until_steady(pilot, "the help")

    assert snap_compare(make_app(session_id=sessions["failed"]), terminal_size=size,
                        run_before=run_before)


STATUS_OUTPUT = """workspace  /work/demo
tree       117 nodes · 96 files · 21 directories · 1.4 MiB
coverage docs  112/117 nodes (96%)
sessions   1 running · last 01M7Q5CQG0 context.generate failed
"""


@pytest.mark.parametrize("size", SIZES)
def test_output_at(size: tuple[int, int], snap_compare: SnapCompare, make_app: AppFactory,
                   sessions: dict[str, str]) -> None:
    # what a command run from the command bar printed (its run is covered by
    # test_command_bar; here its screen, with a fixed result)
    result = CommandResult(exit_code=1, output=STATUS_OUTPUT,
                           errors="error: 1 node failed — run `ctree sessions show 01M7Q5CQG0`\n")

    async def run_before(pilot: Pilot[Any]) -> None:
        app: Any = pilot.app
        await wait_until(pilot, lambda: app.dashboard.snapshot is not None, "the snapshot")
        app.call_next(app.push_screen, OutputScreen(line="status", result=result))
        await wait_until(pilot, lambda: isinstance(app.screen, OutputScreen)
                         and "exit 1" in str(app.screen.query_one("#output-box").border_title),
                         "the output")
        await wait_until_steady(pilot, "the output")

    assert snap_compare(make_app(auto_follow=False), terminal_size=size, run_before=run_before)
