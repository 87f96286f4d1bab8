"""Commands started from the TUI are child processes: `x` cancels one as Ctrl-C would (a
watch then stops normally, its session `completed`), and quit (`q`) asks first while one runs:
leave it running, cancel it, or stay."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest

from contextree.engine.workspace.layout import Workspace
from contextree.progress import EventStore, SessionRecord
from contextree.progress.session import effective_status
from contextree.tui.app import CtreeApp
from contextree.tui.widgets.confirm import QuitDialog
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
    await pilot.press("colon")
    await wait_until(pilot, lambda: app.command_bar_open and app.command_bar.input.has_focus,
                     "the command bar focused")
    await pilot.press("w", "a", "t", "c", "h", "enter")
    view = app.session_view
    await wait_until(pilot, lambda: view.state is not None
                     and view.state.event_types["watch_started"], "the watch started", 60)
    assert app.runner is not None and len(app.runner.running()) == 1
    run = app.runner.running()[0]
    assert run.pid is not None and run.pid != os.getpid()  # a child process
    session_id = run.session_id
    assert session_id is not None and view.session_id == session_id
    record = store_record(app.store, session_id)
    assert record.pid == run.pid
    return session_id


def store_record(store: EventStore, session_id: str) -> SessionRecord:
    record = store.get_session(session_id)
    assert record is not None
    return record


def assert_stopped_by_sigint(store: EventStore, session_id: str) -> None:
    """Ctrl-C stops a watch normally: `completed`, its reason stored, `session_ended` last."""
    record = store_record(store, session_id)
    assert record.status == "completed"
    events = store.read_events(session_id)
    assert events[-1].type == "session_ended" and events[-1].data["status"] == "completed"
    stopped = [event for event in events if event.type == "watch_stopped"]
    assert stopped and stopped[0].data["reason"] == "signal SIGINT"


async def test_quit_without_a_running_command_exits_at_once(workspace: Workspace,
                                                            store: EventStore) -> None:
    app = CtreeApp(store=store, workspace=workspace, auto_follow=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
        await pilot.pause()
        assert not isinstance(app.screen, QuitDialog)
    assert app.return_code == 0


async def test_quit_asks_while_a_command_runs_and_cancels_it(workspace: Workspace,
                                                             store: EventStore) -> None:
    app = CtreeApp(store=store, workspace=workspace, auto_follow=False)
    async with app.run_test(size=SIZE) as pilot:
        session_id = await start_watch(pilot, app)
        await pilot.press("q")
        await wait_until(pilot, lambda: isinstance(app.screen, QuitDialog), "the question")
        question = app.screen.question
        assert "`watch`" in question and "leave it running" in question and "stay" in question
        await pilot.press("c")
        await wait_until(pilot, lambda: app._exit, "the app quitting", 60)
    assert app.runner is not None and not app.runner.running()
    assert_stopped_by_sigint(store, session_id)


async def test_staying_keeps_the_command_running(workspace: Workspace,
                                                 store: EventStore) -> None:
    app = CtreeApp(store=store, workspace=workspace, auto_follow=False)
    async with app.run_test(size=SIZE) as pilot:
        session_id = await start_watch(pilot, app)
        await pilot.press("q")
        await wait_until(pilot, lambda: isinstance(app.screen, QuitDialog), "the question")
        await pilot.press("s")
        await wait_until(pilot, lambda: not isinstance(app.screen, QuitDialog), "staying")
        assert app.runner is not None and len(app.runner.running()) == 1
        assert store_record(store, session_id).status == "active"
    # the app closing anyway (here: the test ending) still ends the session cleanly
    assert_stopped_by_sigint(store, session_id)


async def test_leaving_it_running_quits_and_the_child_goes_on(workspace: Workspace,
                                                              store: EventStore) -> None:
    app = CtreeApp(store=store, workspace=workspace, auto_follow=False)
    async with app.run_test(size=SIZE) as pilot:
        session_id = await start_watch(pilot, app)
        assert app.runner is not None
        process = app.runner.running()[0].process
        assert process is not None
        await pilot.press("q")
        await wait_until(pilot, lambda: isinstance(app.screen, QuitDialog), "the question")
        await pilot.press("l")
        await wait_until(pilot, lambda: app._exit, "the app quitting")
    try:
        assert process.poll() is None  # still running after the TUI closed
        assert store.get_session(session_id) is not None
        assert effective_status(store_record(store, session_id)) == "active"
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(60)
    assert_stopped_by_sigint(store, session_id)


async def test_x_cancels_the_running_command_and_only_then_shows(workspace: Workspace,
                                                                 store: EventStore) -> None:
    app = CtreeApp(store=store, workspace=workspace, auto_follow=False)
    async with app.run_test(size=SIZE) as pilot:
        assert app.check_action("cancel_command", ()) is False  # hidden: nothing runs
        session_id = await start_watch(pilot, app)
        assert app.check_action("cancel_command", ()) is True
        await pilot.press("x")
        assert app.runner is not None
        await wait_until(pilot, lambda: not app.runner.running(), "the watch ending", 60)
        await wait_until(pilot, lambda: app.session_view.finished, "its session ending", 60)
        assert app.check_action("cancel_command", ()) is False
        assert not app._exit
    assert_stopped_by_sigint(store, session_id)
