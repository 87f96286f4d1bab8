"""The command bar (`:`): checked and completed against the command tree, run as `ctree`
child processes whose sessions the session view follows, with a history kept across runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Static

from contextree.engine.workspace.layout import Workspace
from contextree.progress import EventStore
from contextree.tui.app import CtreeApp
from contextree.tui.completion import KnownValues, complete
from contextree.tui.widgets.help_screen import HelpScreen
from contextree.tui.widgets.output_screen import OutputScreen
from tests.tui.conftest import wait_until
from tests.tui.workspaces import generate, make_workspace

SIZE = (140, 40)
CHILD_TIMEOUT_S = 90.0
"""Commands run as child processes: a loaded machine may take seconds to start one."""


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return make_workspace(tmp_path / "demo")


@pytest.fixture
def store(workspace: Workspace) -> Any:
    opened = EventStore.open(workspace.store_path)
    yield opened
    opened.close()


def open_app(workspace: Workspace, store: EventStore) -> CtreeApp:
    return CtreeApp(store=store, workspace=workspace, auto_follow=False)


async def type_line(pilot: Any, line: str) -> None:
    """Open the command bar, wait until its input has the focus, then type `line` (a key
    pressed before would reach the view: `s` would start a scan)."""
    app = pilot.app
    await pilot.press("colon")
    await wait_until(pilot, lambda: app.command_bar_open and app.command_bar.input.has_focus,
                     "the command bar focused")
    await pilot.press(*("space" if character == " " else character for character in line))


def error_text(app: CtreeApp) -> str:
    return str(app.command_bar.query_one("#command-error", Static).content)


# -- completion from the click tree (plain functions) --------------------------------------


def test_completion_offers_subcommands_options_choices_and_paths(workspace: Workspace) -> None:
    root = workspace.root
    found = complete("context g", workspace_root=root)
    assert [c.value for c in found.candidates] == ["generate", "get"]
    assert found.apply(found.candidates[0]) == "context generate "
    options = [c.value for c in complete("context generate --", workspace_root=root).candidates]
    assert {"--force", "--agent", "--no-recursive", "--keep-going", "--help"} <= set(options)
    assert [c.value for c in complete("sessions list --status f").candidates] == ["failed"]
    paths = complete("context generate p", workspace_root=root)
    assert [c.value for c in paths.candidates] == ["pkg/"]
    assert paths.apply(paths.candidates[0]) == "context generate pkg/"  # no space: go on
    inside = complete("scan pkg/", workspace_root=root).candidates
    assert [c.value for c in inside] == ["pkg/text/", "pkg/__init__.py", "pkg/core.py"]
    assert complete("context generate --agent ", values=lambda kind: ["docs", "review"]
                    ).candidates[1].value == "review"
    known = KnownValues(workspace, sessions=lambda: ["01ABC"])
    assert list(known("agent")) == ["docs"] and "local" in list(known("provider"))
    assert [c.value for c in complete("sessions show ", values=known).candidates] == \
        ["last", "01ABC"]


# -- the bar in the app ----------------------------------------------------------------------


async def test_tab_completes_subcommands_flags_and_paths(workspace: Workspace,
                                                         store: EventStore) -> None:
    app = open_app(workspace, store)
    async with app.run_test(size=SIZE) as pilot:
        await type_line(pilot, "context g")
        bar = app.command_bar
        await pilot.press("tab")
        assert bar.input.value == "context generate "
        await pilot.press("tab")
        assert bar.input.value == "context get "  # again: the next suggestion
        await pilot.press("shift+tab")
        assert bar.input.value == "context generate "
        for key in ("minus", "minus", "f", "o", "tab"):
            await pilot.press(key)
        assert bar.input.value == "context generate --force "
        await pilot.press("p", "tab")
        assert bar.input.value == "context generate --force pkg/"
        await pilot.press("c", "tab")
        assert bar.input.value == "context generate --force pkg/core.py "
        suggestions = bar.query_one("#suggestions", Static)
        assert not suggestions.display  # nothing more to suggest after a complete path
        await pilot.press("escape")
        assert not bar.is_open


async def test_scan_runs_as_a_session_the_session_view_follows(workspace: Workspace,
                                                               store: EventStore) -> None:
    app = open_app(workspace, store)
    async with app.run_test(size=SIZE) as pilot:
        await type_line(pilot, "scan")
        await pilot.press("enter")
        view = app.session_view
        await wait_until(pilot, lambda: app.current_view == "session" and view.finished,
                         "the scan in the session view", CHILD_TIMEOUT_S)
        assert not app.command_bar.is_open
        assert view.state is not None and view.state.command == "scan"
        assert view.state.status == "completed"
        session_id = view.session_id
        assert session_id is not None
        stored = [event.type for event in store.read_events(session_id)]
        assert "scan_completed" in stored and stored[-1] == "session_ended"


async def test_context_generate_runs_and_its_events_reach_the_store(
        workspace: Workspace, store: EventStore) -> None:
    app = open_app(workspace, store)
    async with app.run_test(size=SIZE) as pilot:
        await type_line(pilot, "context generate --provider local")
        await pilot.press("enter")
        view = app.session_view
        await wait_until(pilot, lambda: app.current_view == "session" and view.finished,
                         "the generation in the session view", CHILD_TIMEOUT_S)
        state = view.state
        assert state is not None and state.command == "context.generate"
        assert state.status == "completed" and state.completed_count == 9
        assert view.session_id is not None
        stored = [event.type for event in store.read_events(view.session_id)]
        assert stored.count("node_generation_completed") == 9 and stored[-1] == "session_ended"


async def test_an_invalid_command_shows_its_error_and_creates_no_session(
        workspace: Workspace, store: EventStore) -> None:
    before = len(store.list_sessions())
    app = open_app(workspace, store)
    async with app.run_test(size=SIZE) as pilot:
        await type_line(pilot, "context generate --bogus")
        await pilot.press("enter")
        await wait_until(pilot, lambda: error_text(app), "the error")
        assert error_text(app) == ("✗ No such option '--bogus'. — try `context generate "
                                   "--help`")
        assert app.command_bar.is_open and app.current_view == "dashboard"
        app.command_bar.input.value = "frobnicate"
        await pilot.press("enter")
        await wait_until(pilot, lambda: "frobnicate" in error_text(app), "the second error")
        await pilot.pause()
    assert len(store.list_sessions()) == before


async def test_a_short_command_shows_its_output_until_escape(workspace: Workspace,
                                                             store: EventStore) -> None:
    generate(workspace)
    app = open_app(workspace, store)
    async with app.run_test(size=SIZE) as pilot:
        await type_line(pilot, "status")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, OutputScreen)
                         and app.screen.result is not None, "the output", CHILD_TIMEOUT_S)
        screen = app.screen
        assert isinstance(screen, OutputScreen)
        output = str(screen.query_one("#output", Static).content)
        assert "coverage docs  9/9 nodes (100%)" in output
        await pilot.press("escape")
        assert not isinstance(app.screen, OutputScreen)
        assert app.current_view == "dashboard"


async def test_history_is_kept_across_app_instances(workspace: Workspace,
                                                    store: EventStore) -> None:
    first = open_app(workspace, store)
    async with first.run_test(size=SIZE) as pilot:
        for line in ("agent list", "provider list"):
            await type_line(pilot, line)
            await pilot.press("enter")
            await wait_until(pilot, lambda: isinstance(first.screen, OutputScreen)
                             and first.screen.result is not None, f"`{line}`", CHILD_TIMEOUT_S)
            await pilot.press("escape")
    history_file = workspace.ctree_dir / "tui_history"
    assert history_file.read_text().splitlines() == ["agent list", "provider list"]
    second = open_app(workspace, store)
    async with second.run_test(size=SIZE) as pilot:
        await pilot.press("colon", "up")
        assert second.command_bar.input.value == "provider list"
        await pilot.press("up")
        assert second.command_bar.input.value == "agent list"
        await pilot.press("down", "down")
        assert second.command_bar.input.value == ""


async def test_dashboard_g_and_s_run_generate_and_scan(workspace: Workspace,
                                                       store: EventStore) -> None:
    app = open_app(workspace, store)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.dashboard.snapshot is not None, "the dashboard")
        await pilot.press("s")
        view = app.session_view
        await wait_until(pilot, lambda: view.state is not None and view.finished
                         and view.state.command == "scan", "the scan", CHILD_TIMEOUT_S)
        await pilot.press("1", "g")
        await wait_until(pilot, lambda: view.state is not None and view.finished
                         and view.state.command == "context.generate", "the generation",
                         CHILD_TIMEOUT_S)
        await pilot.press("1")
        summary = app.dashboard.query_one("#summary", Static)
        await wait_until(pilot, lambda: "docs 9/9 (100%)" in str(summary.content),
                         "the coverage per agent", CHILD_TIMEOUT_S)


async def test_help_lists_the_current_view_first_then_global_keys_and_no_builtins(
        workspace: Workspace, store: EventStore) -> None:
    from textual.widgets import DataTable, Input, Tree

    from contextree.tui.views.content import ContentView
    from contextree.tui.views.dashboard import DashboardView
    from contextree.tui.views.history import HistoryView
    from contextree.tui.views.session import SessionView
    from contextree.tui.widgets.command_bar import CommandBar

    app = open_app(workspace, store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        sections = app.screen.sections
        titles = [title for title, _ in sections]
        assert titles[:3] == ["Dashboard (1) — this view", "Everywhere", "Command bar (:)"]
        assert {"Session (2)", "Content (3)", "History (4)"} <= set(titles)
        assert not any("built in" in title for title in titles)
        dashboard_rows = dict(sections[0][1])
        assert dashboard_rows["g"] == "Generate"
        assert dashboard_rows["enter"].startswith("open the highlighted session")
        assert "click" in dashboard_rows and "wheel" in dashboard_rows
        everywhere = dict(sections[1][1])
        assert everywhere["?"] == "Keys" and everywhere["q"] == "Quit"
        assert everywhere[":"] == "Command" and everywhere["x"] == "Cancel run"
        described = {description for _, rows in sections for _, description in rows}
        for owner in (CtreeApp, DashboardView, SessionView, ContentView, HistoryView,
                      CommandBar):
            for binding in owner.BINDINGS:
                assert getattr(binding, "description", None) in described, binding
        builtin_only = {"Cursor up", "Cursor Up", "Copy selected text", "Delete character left",
                        "Select", "Toggle"}  # DataTable, Input and Tree's own keys
        assert builtin_only <= {getattr(binding, "description", "") for widget in
                                (DataTable, Tree, Input) for binding in widget.BINDINGS}
        assert not builtin_only & described
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("4", "question_mark")
        assert isinstance(app.screen, HelpScreen)
        assert app.screen.sections[0][0] == "History (4) — this view"
        assert dict(app.screen.sections[0][1])["d"] == "Delete"

