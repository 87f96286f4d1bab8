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

from contextree.progress import EventStore
from contextree.tui.app import CtreeApp
from tests.tui.conftest import AppFactory, wait_until
from tests.tui.synthetic import T0
from tests.tui.test_snapshots import CONTENT_FRAME, SnapCompare
from tests.tui.test_snapshots import sessions as sessions  # the fixture
from tests.tui.workspaces import make_workspace, put_frame, scan

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
    workspace = make_workspace(tmp_path / "demo", review_agent=True)
    store = EventStore.open(workspace.store_path)
    try:
        scan(workspace, store)
        for path in ("pkg/__init__.py", "pkg/text/strings.py", "pkg/text", "pkg", "."):
            put_frame(store, path, f"# `{path}`\n\nContext of {path}.\n")
        put_frame(store, "pkg/core.py", CONTENT_FRAME)

        async def run_before(pilot: Pilot[Any]) -> None:
            app: Any = pilot.app
            tree = app.content.content_tree
            await wait_until(pilot, lambda: tree.display, "the tree")
            tree._path_nodes["pkg"].expand()
            await wait_until(pilot, lambda: "pkg/core.py" in tree._path_nodes, "pkg expanded")
            await pilot.pause()
            tree.move_cursor(tree._path_nodes["pkg/core.py"])
            panel = app.content.panel
            await wait_until(pilot, lambda: panel.frames is not None
                             and panel.frames.record.path == "pkg/core.py", "the frame")
            await wait_until(pilot, lambda: panel.query("MarkdownFence"), "the markdown")
            await pilot.pause()

        app = CtreeApp(store=store, workspace=workspace, view="content", auto_follow=False,
                       clock=lambda: T0 + 3600.0)
        assert snap_compare(app, terminal_size=size, run_before=run_before)
    finally:
        store.close()
