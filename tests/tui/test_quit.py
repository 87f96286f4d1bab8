"""Quit (`q`) asks first while a command started from the TUI runs, and ends its session
cleanly: cancelled like Ctrl-C, `failed` with `cancelled`, `session_ended` stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from contextree.engine.workspace.layout import Workspace
from contextree.progress import EventStore
from contextree.tui.app import CtreeApp
from contextree.tui.widgets.confirm import ConfirmDialog
from tests.tui.conftest import wait_until
from tests.tui.workspaces import make_workspace

SIZE = (120, 36)


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return make_workspace(tmp_path / "demo")


@pytest.fixture
def store(workspace: Workspace) -> Any:
    opened = EventStore.open(workspace.store_path)
    yield opened
    opened.close()


async def start_watch(pilot: Any, app: CtreeApp) -> str:
    """Run `watch` from the command bar (it runs until stopped); return its session id."""
    await pilot.press("colon", "w", "a", "t", "c", "h", "enter")
    view = app.session_view
    await wait_until(pilot, lambda: view.state is not None
                     and view.state.event_types["watch_started"], "the watch started")
    assert app.runner is not None and len(app.runner.running()) == 1
    session_id = app.runner.running()[0].session_id
    assert session_id is not None and view.session_id == session_id
    return session_id


def assert_cancelled(store: EventStore, session_id: str) -> None:
    record = store.get_session(session_id)
    assert record is not None
    assert (record.status, record.error) == ("failed", "cancelled")
    events = store.read_events(session_id)
    assert events[-1].type == "session_ended"
    assert events[-1].data["status"] == "failed" and events[-1].data["error"] == "cancelled"
    summary = [event for event in events if event.type == "command_summary"]
    assert summary and summary[0].data["ok"] is False


async def test_quit_without_a_running_command_exits_at_once(workspace: Workspace,
                                                            store: EventStore) -> None:
    app = CtreeApp(store=store, workspace=workspace, auto_follow=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmDialog)
    assert app.return_code == 0


async def test_quit_asks_while_a_command_runs_and_cancels_it(workspace: Workspace,
                                                             store: EventStore) -> None:
    app = CtreeApp(store=store, workspace=workspace, auto_follow=False)
    async with app.run_test(size=SIZE) as pilot:
        session_id = await start_watch(pilot, app)
        await pilot.press("q")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the question")
        assert "`watch`" in app.screen.question and "cancel" in app.screen.question
        await pilot.press("y")
        await wait_until(pilot, lambda: app._exit, "the app quitting")
    assert app.runner is not None and not app.runner.running()
    assert_cancelled(store, session_id)


async def test_declining_keeps_the_command_running(workspace: Workspace,
                                                   store: EventStore) -> None:
    app = CtreeApp(store=store, workspace=workspace, auto_follow=False)
    async with app.run_test(size=SIZE) as pilot:
        session_id = await start_watch(pilot, app)
        await pilot.press("q")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the question")
        await pilot.press("n")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmDialog)
        assert app.runner is not None and len(app.runner.running()) == 1
        record = store.get_session(session_id)
        assert record is not None and record.status == "active"
    # the app closing anyway (here: the test ending) still ends the session cleanly
    assert_cancelled(store, session_id)
