"""The history view: list, filter, open, replay, delete and prune sessions from the store."""

from __future__ import annotations

from typing import Any

from textual.widgets import DataTable

from contextree.engine.workspace.layout import Workspace
from contextree.progress import EventStore
from contextree.progress.reducer import replay
from contextree.tui.feeds import ReplayFeed
from contextree.tui.widgets.confirm import ConfirmDialog
from tests.tui.conftest import AppFactory, wait_until
from tests.tui.synthetic import (
    T0,
    fixed_ulid,
    generation_events,
    scan_events,
    tree_plan,
    write_session,
)

DAY = 86_400.0


def three_sessions(store: EventStore) -> list[str]:
    """A failed generation, a scan and an active generation, oldest first."""
    plan = tree_plan(fail=frozenset({"pkg1/pkg2/module_03.py"}))
    return [
        write_session(store, generation_events(plan), session_id=fixed_ulid(T0, 1),
                      status="failed", error="1 node failed"),
        write_session(store, scan_events(), session_id=fixed_ulid(T0 + 60, 2), command="scan",
                      start_s=T0 + 60),
        write_session(store, generation_events(tree_plan(stop_after_level=1)),
                      session_id=fixed_ulid(T0 + 120, 3), start_s=T0 + 120, status=None),
    ]


def table_keys(app: Any) -> list[str]:
    table = app.history.query_one("#sessions", DataTable)
    return [row.key.value for row in table.ordered_rows]


async def test_history_lists_every_session_newest_first(store: EventStore,
                                                        make_app: AppFactory) -> None:
    ids = three_sessions(store)
    app = make_app(view="history")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: len(table_keys(app)) == 3, "three rows")
        assert table_keys(app) == ids[::-1]
        table = app.history.query_one("#sessions", DataTable)
        failed_row = [str(cell) for cell in table.get_row(ids[0])]
        assert failed_row[2] == "context.generate" and failed_row[4] == "failed"
        # nodes done, nodes failed: 117 planned, 1 failed, its 3 ancestors skipped
        assert failed_row[5] == "113 ✗1"
        running = [str(cell) for cell in table.get_row(ids[2])]
        state = replay(store.read_events(ids[2]))
        assert state.current_level is not None
        assert running[4] == f"▶ level {state.current_level + 1}/{state.total_levels}"
        percent = f"{state.done_count / state.total_nodes:.0%}"
        assert running[5] == f"{state.done_count}/{state.total_nodes} {percent}"
        shown_ids = [str(table.get_row(key)[0]) for key in ids]
        assert all(len(shown) < len(full) and full.startswith(shown)
                   for shown, full in zip(shown_ids, ids, strict=True))
        for shown in shown_ids:  # each short id names exactly one session
            assert sum(full.startswith(shown) for full in ids) == 1


async def test_filter_narrows_the_list(store: EventStore, make_app: AppFactory) -> None:
    ids = three_sessions(store)
    app = make_app(view="history")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: len(table_keys(app)) == 3, "three rows")
        await pilot.press("slash", "s", "c", "a", "n")
        assert table_keys(app) == [ids[1]]
        await pilot.press("escape")
        assert table_keys(app) == ids[::-1]


async def test_enter_opens_the_session_in_the_session_view(store: EventStore,
                                                           make_app: AppFactory) -> None:
    ids = three_sessions(store)
    app = make_app(view="history")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: len(table_keys(app)) == 3, "three rows")
        await pilot.press("down", "down", "enter")  # the oldest: the failed generation
        view = app.session_view
        assert app.current_view == "session"
        await wait_until(pilot, lambda: view.finished, "session loaded")
        assert view.state is not None and view.state.session_id == ids[0]
        assert view.state.status == "failed" and view.state.failed_count == 1
        await pilot.press("escape")
        assert app.current_view == "history"


async def test_replay_rebuilds_the_same_final_state(store: EventStore,
                                                    make_app: AppFactory) -> None:
    ids = three_sessions(store)
    app = make_app(view="history", speed=256.0)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: len(table_keys(app)) == 3, "three rows")
        await pilot.press("down", "down", "r")
        view = app.session_view
        assert app.current_view == "session"
        assert isinstance(view.feed, ReplayFeed)
        await wait_until(pilot, lambda: view.finished, "replay finished")
        record = store.get_session(ids[0])
        expected = replay(store.read_events(ids[0]), record)
        assert view.state is not None
        assert view.state.to_json() == expected.to_json()
        assert "replay ×256 done" in view.mode_text()


def store_workspace(store: EventStore) -> Workspace:
    """A workspace whose store is the test's: the child commands the history runs use it."""
    return Workspace(root=store.path.parent, store_path=store.path)


async def test_delete_asks_first_then_runs_sessions_delete(store: EventStore,
                                                           make_app: AppFactory) -> None:
    ids = three_sessions(store)
    app = make_app(view="history", workspace=store_workspace(store))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: len(table_keys(app)) == 3, "three rows")
        await pilot.press("down", "d")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("n")
        assert store.get_session(ids[1]) is not None
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await wait_until(pilot, lambda: ids[1] not in table_keys(app), "row removed", 60)
        assert store.get_session(ids[1]) is None
        assert store.read_events(ids[1]) == []


async def test_an_active_session_is_not_deleted(store: EventStore,
                                                make_app: AppFactory) -> None:
    ids = three_sessions(store)
    app = make_app(view="history")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: len(table_keys(app)) == 3, "three rows")
        await pilot.press("d")  # the newest row is the active session
        assert not isinstance(app.screen, ConfirmDialog)
        assert any("still running" in str(n.message) for n in app._notifications)
        assert store.get_session(ids[2]) is not None


async def test_prune_removes_old_ended_sessions_after_asking(store: EventStore,
                                                             make_app: AppFactory) -> None:
    ids = three_sessions(store)
    recent = write_session(store, scan_events(), session_id=fixed_ulid(T0 + 30 * DAY, 4),
                           command="scan", start_s=T0 + 30 * DAY)
    app = make_app(view="history", prune_policy=(DAY, 1), workspace=store_workspace(store))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: len(table_keys(app)) == 4, "four rows")
        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "confirmation")
        assert "Prune 2 ended sessions older than 1 day or" in app.screen.question  # type: ignore[attr-defined]
        await pilot.press("y")
        await wait_until(pilot, lambda: not {ids[0], ids[1]} & set(table_keys(app)), "pruned",
                         60)
        pruned_by = [row.session_id for row in app.history.snapshot.rows  # type: ignore[union-attr]
                     if row.record.command == "sessions.prune"]
        assert len(pruned_by) == 1  # the child's own session: it changed the store
        assert set(table_keys(app)) == {recent, ids[2], pruned_by[0]}  # active: never pruned
