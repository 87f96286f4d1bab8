"""Screenshots of every view, with fixed ids, timestamps and a frozen clock.

Part 2 adds the content browser (a real scanned workspace, frames stored with fixed
timestamps), the command bar with its suggestions, and the help screen.

Update after an intended visual change with `pytest tests/tui --snapshot-update`, and look at
the SVGs in `__snapshots__/` before committing them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from contextree.engine.workspace.tree import TreeChanges, TreeStore
from contextree.progress import EventStore
from contextree.progress.schema import TREE_SUMMARY
from contextree.tui.app import CtreeApp
from tests.tui.conftest import AppFactory, wait_until, wait_until_steady
from tests.tui.synthetic import (
    T0,
    fixed_ulid,
    flat_plan,
    generation_events,
    scan_events,
    tree_plan,
    watch_events,
    write_session,
)
from tests.tui.workspaces import make_workspace, put_frame, scan

SIZE = (140, 36)
FAILING = "pkg1/pkg2/module_03.py"
RETRIED = "pkg0/pkg0/module_01.py"
WAITING = frozenset({"pkg0/pkg1/module_02.py", "pkg0/pkg1/module_03.py"})
SnapCompare = Callable[..., bool]
RunBefore = Callable[[Pilot[Any]], Awaitable[None]]


@pytest.fixture
def sessions(store: EventStore) -> dict[str, str]:
    """A small history: a generation with a failure and a retry, a scan, an interrupted
    watch, and a generation still running with two nodes waiting for the provider."""
    failed_plan = tree_plan(fail=frozenset({FAILING}), retry=frozenset({RETRIED}),
                            skipped=["pkg3/pkg3/module_05.py"])
    ids = {
        "failed": write_session(store, generation_events(failed_plan),
                                session_id=fixed_ulid(T0, 1), status="failed",
                                error="1 node failed", args={"path": "."}),
        "scan": write_session(store, scan_events(), session_id=fixed_ulid(T0 + 600, 2),
                              command="scan", start_s=T0 + 600),
        "watch": write_session(store, watch_events(), session_id=fixed_ulid(T0 + 900, 3),
                               command="watch", start_s=T0 + 900, status="interrupted"),
        "active": write_session(store, generation_events(tree_plan(stop_after_level=1,
                                                                   waiting=WAITING)),
                                session_id=fixed_ulid(T0 + 3595, 4), start_s=T0 + 3595,
                                status=None),
    }
    tree = {"root_id": "3fa2c19b" * 4, "node_count": 117, "file_count": 96, "dir_count": 21,
            "total_bytes": 1_482_113, "updated_at": "2026-11-18T09:52:10.000Z",
            "updated_by": "scan"}
    TreeStore(store).apply(TreeChanges(), {TREE_SUMMARY: tree})  # as a scan writes it
    return ids


def loaded(*keys: str, select: str | None = None, active: bool = False) -> RunBefore:
    """Wait until the session view has loaded, press `keys`, move the cursor to `select`."""

    async def run_before(pilot: Pilot[Any]) -> None:
        view = pilot.app.session_view  # type: ignore[attr-defined]
        if active:
            await wait_until(pilot, lambda: view.state is not None and view.state.nodes,
                             "the session loaded")
        else:
            await wait_until(pilot, lambda: view.finished, "the session loaded")
        await pilot.press(*keys)
        nodes = view.query_one("NodeList")
        if select is not None:
            nodes.cursor = list(nodes.paths).index(select)
            await pilot.pause()
        detail = view.query_one("NodeDetail")
        await wait_until(pilot, lambda: not detail.display or detail.settled,
                         "the detail wrapped to its width")
        await wait_until_steady(pilot, "the session view")

    return run_before


def test_dashboard(snap_compare: SnapCompare, make_app: AppFactory,
                   sessions: dict[str, str]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app: Any = pilot.app
        await wait_until(pilot, lambda: app.dashboard.snapshot is not None, "the snapshot")

    assert snap_compare(make_app(auto_follow=False), terminal_size=SIZE, run_before=run_before)


def test_session_live_with_nodes_waiting(snap_compare: SnapCompare, make_app: AppFactory,
                                         sessions: dict[str, str]) -> None:
    # the cursor on the first node waiting for the provider: its timer is in the detail
    app = make_app()
    assert snap_compare(app, terminal_size=SIZE,
                        run_before=loaded(select=sorted(WAITING)[0], active=True))


def test_session_failed_node_detail(snap_compare: SnapCompare, make_app: AppFactory,
                                    sessions: dict[str, str]) -> None:
    # a run that ended with failures opens on its first failure, the detail shown
    app = make_app(session_id=sessions["failed"])
    assert snap_compare(app, terminal_size=SIZE, run_before=loaded())


def test_session_retry_timing(snap_compare: SnapCompare, make_app: AppFactory,
                              sessions: dict[str, str]) -> None:
    app = make_app(session_id=sessions["failed"])
    assert snap_compare(app, terminal_size=SIZE, run_before=loaded(select=RETRIED))


def test_session_scan_metrics(snap_compare: SnapCompare, make_app: AppFactory,
                              sessions: dict[str, str]) -> None:
    app = make_app(session_id=sessions["scan"])
    assert snap_compare(app, terminal_size=SIZE, run_before=loaded())


def test_session_watch_interrupted(snap_compare: SnapCompare, make_app: AppFactory,
                                   sessions: dict[str, str]) -> None:
    app = make_app(session_id=sessions["watch"])
    assert snap_compare(app, terminal_size=SIZE, run_before=loaded())


def test_session_ten_thousand_nodes_scrolled(snap_compare: SnapCompare, store: EventStore,
                                             make_app: AppFactory) -> None:
    plan = flat_plan(10_000, concurrency=64)
    session_id = write_session(store, generation_events(plan), session_id=fixed_ulid(T0, 9))
    keys = loaded("end", "pageup", "up", "up")

    async def run_before(pilot: Pilot[Any]) -> None:
        await keys(pilot)
        nodes: Any = pilot.app.query_one("NodeList")
        height = nodes.size.height
        assert nodes.cursor == 9_999 - (height - 1) - 2
        await wait_until(pilot, lambda: nodes.scroll_offset.y == nodes.cursor,
                         "the cursor's row on top, the end of the list below")

    assert snap_compare(make_app(session_id=session_id), terminal_size=SIZE,
                        run_before=run_before)


def test_history(snap_compare: SnapCompare, make_app: AppFactory,
                 sessions: dict[str, str]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app: Any = pilot.app
        await wait_until(pilot, lambda: app.history.snapshot is not None, "the snapshot")

    assert snap_compare(make_app(view="history"), terminal_size=SIZE, run_before=run_before)


def test_history_delete_confirmation(snap_compare: SnapCompare, make_app: AppFactory,
                                     sessions: dict[str, str]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app: Any = pilot.app
        await wait_until(pilot, lambda: app.history.snapshot is not None, "the snapshot")
        await pilot.press("down", "d")

    assert snap_compare(make_app(view="history"), terminal_size=SIZE, run_before=run_before)


def test_replay_paused_after_steps(snap_compare: SnapCompare, make_app: AppFactory,
                                   sessions: dict[str, str]) -> None:
    app = make_app(replay_id=sessions["failed"], speed=0.01)
    assert snap_compare(app, terminal_size=SIZE, run_before=replay_paused_at_the_retried_node)


async def replay_paused_at_the_retried_node(pilot: Pilot[Any]) -> None:
    """Pause the replay, step to event 420, order by path and walk to the retried node."""
    app: Any = pilot.app
    view = app.session_view
    feed = view.replay_feed
    await wait_until(pilot, lambda: feed.total > 0, "the replay loaded")
    await pilot.press("space")
    await wait_until(pilot, lambda: feed.paused, "paused")
    target = 420  # deterministic: step from wherever the pause landed to event 420
    feed.step(target - 1 - feed.position)
    await wait_until(pilot, lambda: feed.position == target - 1, "the steps")
    await pilot.press("n")
    await wait_until(pilot, lambda: view.state is not None
                     and view.state.event_count == target, "caught up")
    # as a person would: order by path, jump to the top (which stops following the
    # work in flight, wherever the batches of the replay left it), walk to the retried node
    await pilot.press("s")
    await wait_until(pilot, lambda: view.choice.order == "path", "ordered by path")
    app.clear_notifications()  # its toast would stay or go depending on the machine's speed
    await wait_until(pilot, lambda: not app.screen.query("Toast"), "the toast gone")
    nodes = view.query_one("NodeList")
    nodes.action_jump(0)
    await wait_until(pilot, lambda: nodes.cursor == 0 and nodes.scroll_offset.y == 0,
                     "the top of the list")
    for _ in range(list(nodes.paths).index(RETRIED)):
        nodes.action_cursor(1)
    await wait_until(pilot, lambda: nodes.highlighted_path == RETRIED
                     and nodes.scroll_offset.y == 0, "the retried node")
    detail = view.query_one("NodeDetail")
    await wait_until(pilot, lambda: detail.settled, "the detail wrapped to its width")
    await wait_until_steady(pilot, "the replay")


# -- part 2: the content browser, the command bar, the help ----------------------------------

CONTENT_FRAME = """# `pkg/core.py`

Core arithmetic for the demo: *small*, **pure** functions.

## Functions

- `add(a, b)` — add two numbers
- `mul(a, b)` — multiply them

## Example

```python
from pkg.core import add
assert add(2, 3) == 5
```
"""


def test_content_view(snap_compare: SnapCompare, tmp_path: Path) -> None:
    """The tree with coverage per directory (README.md and docs/ without context, dimmed),
    pkg/core.py's frame rendered as markdown under its metadata, another agent available."""
    assert compare_content_view(snap_compare, tmp_path, SIZE, review_frame=True)


def compare_content_view(snap_compare: SnapCompare, tmp_path: Path, size: tuple[int, int], *,
                         review_frame: bool) -> bool:
    """The content browser over a scanned demo workspace, on pkg/core.py's rendered frame;
    with `review_frame`, the review agent has a frame for it too."""
    workspace = make_workspace(tmp_path / "demo", review_agent=True)
    store = EventStore.open(workspace.store_path)
    try:
        scan(workspace, store)
        for path in ("pkg/__init__.py", "pkg/text/strings.py", "pkg/text", "pkg", "."):
            put_frame(store, path, f"# `{path}`\n\nContext of {path}.\n")
        put_frame(store, "pkg/core.py", CONTENT_FRAME)
        if review_frame:
            put_frame(store, "pkg/core.py", "# Review\n\nLooks fine.\n", agent="review")

        async def run_before(pilot: Pilot[Any]) -> None:
            app: Any = pilot.app
            await wait_until(pilot, lambda: app.content_mounted, "the content view")
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
        return snap_compare(app, terminal_size=size, run_before=run_before)
    finally:
        store.close()


def test_command_bar_with_suggestions(snap_compare: SnapCompare, make_app: AppFactory,
                                      sessions: dict[str, str]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app: Any = pilot.app
        await wait_until(pilot, lambda: app.dashboard.snapshot is not None, "the snapshot")
        await pilot.press("colon", *"context", "space", *"generate", "space", "minus",
                          "minus", "tab", "tab")
        app.command_bar.input.cursor_blink = False  # a blink is on or off by wall time
        await wait_until_steady(pilot, "the suggestions")

    assert snap_compare(make_app(auto_follow=False), terminal_size=SIZE, run_before=run_before)


def test_help_screen(snap_compare: SnapCompare, make_app: AppFactory,
                     sessions: dict[str, str]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app: Any = pilot.app
        await wait_until(pilot, lambda: app.dashboard.snapshot is not None, "the snapshot")
        await pilot.press("question_mark")

    assert snap_compare(make_app(auto_follow=False), terminal_size=SIZE, run_before=run_before)
