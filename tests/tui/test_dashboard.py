"""The dashboard: workspace summary, active operations (any process), recent sessions."""

from __future__ import annotations

from typing import Any

from textual.coordinate import Coordinate
from textual.widgets import DataTable, Static
from textual.widgets._footer import FooterKey

from contextree.engine.workspace.tree import TreeChanges, TreeStore
from contextree.progress import EventStore, ProgressRuntime
from contextree.progress.reducer import replay
from contextree.progress.schema import TREE_SUMMARY
from contextree.tui.widgets.status_bar import StatusBar
from tests.tui.conftest import AppFactory, wait_until
from tests.tui.synthetic import (
    T0,
    fixed_ulid,
    generation_events,
    scan_events,
    tree_plan,
    write_session,
)


def summary(app: Any) -> str:
    return str(app.dashboard.query_one("#summary", Static).content)


def keys(app: Any, table_id: str) -> list[str]:
    table = app.dashboard.query_one(table_id, DataTable)
    return [row.key.value for row in table.ordered_rows]


async def test_summary_counts_sessions_by_status(store: EventStore,
                                                 make_app: AppFactory) -> None:
    write_session(store, scan_events(), session_id=fixed_ulid(T0, 1), command="scan")
    write_session(store, scan_events(), session_id=fixed_ulid(T0 + 1, 2), command="scan",
                  status="failed", error="boom")
    write_session(store, scan_events(), session_id=fixed_ulid(T0 + 2, 3), command="scan",
                  status="interrupted")
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: "3 sessions" in summary(app), "the summary")
        text = summary(app)
        assert "1 completed" in text and "1 failed" in text and "1 interrupted" in text
        assert "/work/demo" in text and ".ctree/store" in text
        assert "no scan yet" in text
        assert app.current_view == "dashboard"  # nothing active: nothing to follow
        assert keys(app, "#recent") == [fixed_ulid(T0 + 2, 3), fixed_ulid(T0 + 1, 2),
                                        fixed_ulid(T0, 1)]


async def test_summary_shows_the_scanned_tree(store: EventStore, make_app: AppFactory) -> None:
    tree = {"root_id": "ab" * 16, "node_count": 1234, "file_count": 1000, "dir_count": 234,
            "total_bytes": 5 << 20, "updated_at": "2026-11-18T09:00:00.000Z",
            "updated_by": "scan"}
    TreeStore(store).apply(TreeChanges(), {TREE_SUMMARY: tree})  # as a scan writes it
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: "1,234 nodes" in summary(app), "the tree summary")
        assert "1,000 files" in summary(app) and "234 directories" in summary(app)
        assert "5.0 MiB" in summary(app)


async def test_sessions_of_other_writers_appear_and_leave_active_operations(
        runtime: ProgressRuntime, make_app: AppFactory) -> None:
    app = make_app(auto_follow=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: "0 sessions" in summary(app), "an empty store")
        session = runtime.session("context.generate", {"path": "."})
        await wait_until(pilot, lambda: keys(app, "#active") == [session.session_id],
                         "the new session among active operations")
        assert "1 active" in summary(app)
        status = app.query_one(StatusBar)
        assert status.running == 1
        assert status.last_change == ("context.generate", "started")
        assert any("context.generate started" in str(note.message)
                   for note in app._notifications)
        session.end()
        await wait_until(pilot, lambda: keys(app, "#active") == [], "no longer active")
        assert keys(app, "#recent") == [session.session_id]
        assert status.running == 0
        assert status.last_change == ("context.generate", "completed")
        assert any("context.generate completed in" in str(note.message)
                   for note in app._notifications)



async def test_the_view_keeps_its_keys_when_the_last_operation_ends(
        store: EventStore, runtime: ProgressRuntime, make_app: AppFactory) -> None:
    """The active table had the focus (an operation started); when it empties and hides, the
    focus goes to the recent sessions, not nowhere (which took g, s and r off the footer)."""
    write_session(store, scan_events(), session_id=fixed_ulid(T0, 1), command="scan")
    app = make_app(auto_follow=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: len(keys(app, "#recent")) == 1, "the stored session")
        session = runtime.session("context.generate", {"path": "."})
        active = app.query_one("#active", DataTable)
        await wait_until(pilot, lambda: active.has_focus, "the new operation focused")
        session.end()
        recent = app.query_one("#recent", DataTable)
        await wait_until(pilot, lambda: not active.display, "no operation running")
        await wait_until(pilot, lambda: recent.has_focus, "the recent sessions focused")
        await wait_until(pilot, lambda: "Generate" in {
            key.description for key in app.query(FooterKey)}, "the dashboard's keys")

async def test_a_failed_operation_is_announced_with_its_error(
        runtime: ProgressRuntime, make_app: AppFactory) -> None:
    app = make_app(auto_follow=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: app.dashboard.snapshot is not None, "the dashboard")
        session = runtime.session("scan", {})
        await wait_until(pilot, lambda: keys(app, "#active") == [session.session_id], "active")
        session.end("failed", error="disk full")
        status = app.query_one(StatusBar)
        await wait_until(pilot, lambda: status.last_change == ("scan", "failed"), "the marker")
        failed = [note for note in app._notifications if note.severity == "error"]
        assert failed and "scan failed" in failed[-1].message
        assert "disk full" in failed[-1].message
        assert "✗ scan failed" in status.render().plain


async def test_active_rows_show_progress_done_total_percent_and_level(
        store: EventStore, make_app: AppFactory) -> None:
    plan = tree_plan(stop_after_level=1)
    active = write_session(store, generation_events(plan), session_id=fixed_ulid(T0 + 5, 2),
                           start_s=T0 + 5, status=None)
    state = replay(store.read_events(active))
    app = make_app(auto_follow=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: keys(app, "#active") == [active], "the active row")
        table = app.dashboard.query_one("#active", DataTable)
        progress = str(table.get_cell_at(Coordinate(0, 2)))
        assert state.current_level is not None and state.done_count
        percent = f"{state.done_count / state.total_nodes:.0%}"
        assert progress == (f"{state.done_count}/{state.total_nodes} {percent} · level "
                            f"{state.current_level + 1}/{state.total_levels}")
        assert keys(app, "#recent")[0] == active


async def test_the_active_table_fits_80_columns_and_shows_the_pid_when_wide(
        store: EventStore, make_app: AppFactory) -> None:
    active = write_session(store, generation_events(tree_plan(stop_after_level=1)),
                           session_id=fixed_ulid(T0 + 5, 2), start_s=T0 + 5, status=None)
    app = make_app(auto_follow=False)
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.dashboard.query_one("#active", DataTable)
        await wait_until(pilot, lambda: keys(app, "#active") == [active], "the active row")
        await wait_until(pilot, lambda: table.size.width > 0, "laid out")
        assert [str(column.label) for column in table.columns.values()][-1] == "events"
        assert table.virtual_size.width <= table.size.width  # no column cut, no scrollbar
        await pilot.resize_terminal(120, 36)
        await wait_until(pilot, lambda: len(table.columns) == 6, "the pid column back")
        assert str(table.get_cell_at(Coordinate(0, 5))) == "4242@build-host"


async def test_key_2_opens_the_running_operation_when_nothing_is_followed(
        store: EventStore, make_app: AppFactory) -> None:
    active = write_session(store, generation_events(tree_plan(stop_after_level=1)),
                           session_id=fixed_ulid(T0 + 5, 2), start_s=T0 + 5, status=None)
    app = make_app(auto_follow=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: keys(app, "#active") == [active], "the active row")
        await pilot.press("2")
        assert app.current_view == "session" and app.session_view.session_id == active


async def test_an_active_session_is_followed_on_start(store: EventStore,
                                                      make_app: AppFactory) -> None:
    write_session(store, scan_events(), session_id=fixed_ulid(T0, 1), command="scan")
    active = write_session(store, generation_events(tree_plan(stop_after_level=1)),
                           session_id=fixed_ulid(T0 + 5, 2), start_s=T0 + 5, status=None)
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: app.current_view == "session", "auto-follow")
        assert app.session_view.session_id == active
        await pilot.press("1")
        assert app.current_view == "dashboard"
        assert keys(app, "#active") == [active]


async def test_enter_on_a_recent_session_opens_it(store: EventStore,
                                                  make_app: AppFactory) -> None:
    first = write_session(store, scan_events(), session_id=fixed_ulid(T0, 1), command="scan")
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: keys(app, "#recent") == [first], "the recent list")
        await pilot.press("enter")
        assert app.current_view == "session"
        await wait_until(pilot, lambda: app.session_view.finished, "loaded")
        assert app.session_view.session_id == first
