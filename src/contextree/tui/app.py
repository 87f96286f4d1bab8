"""The `ctree tui` application: views on keys 1, 2 and 4, a status bar, and the data path.

The app owns the store, the store poller (session list, from any process) and navigation;
the views own their feeds. Nothing here reads LMDB on the event loop: threads read, post a
message, and the UI takes the newest data when it handles it.

| Key | Action |
|---|---|
| `1` | dashboard |
| `2` | session view (the followed or replayed session) |
| `4` | history |
| `escape` | back to the previous view |
| `?` | show / hide the keys |
| `q` | quit |
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widget import Widget
from textual.widgets import ContentSwitcher, DataTable, Footer

from contextree.engine.workspace import Workspace
from contextree.progress import EventStore
from contextree.progress.follow import DEFAULT_POLL_INTERVAL_S
from contextree.tui.data import StoreSnapshot
from contextree.tui.messages import OpenSession, RefreshRequested, StoreChanged
from contextree.tui.poller import StorePoller
from contextree.tui.views.dashboard import DashboardView
from contextree.tui.views.history import HistoryView
from contextree.tui.views.session import SessionView
from contextree.tui.widgets.node_list import NodeList
from contextree.tui.widgets.status_bar import StatusBar

VIEWS = ("dashboard", "session", "history")
DEFAULT_PRUNE_POLICY = (14 * 86400.0, 500)


class SnapshotReady(Message):
    """The store poller has a new snapshot; a burst collapses into one."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SnapshotReady)


class CtreeApp(App[None]):
    """contextree's terminal UI; see the module docstring for keys."""

    CSS_PATH = "app.tcss"
    TITLE = "contextree"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "show_view('dashboard')", "Dashboard"),
        Binding("2", "show_view('session')", "Session"),
        Binding("4", "show_view('history')", "History"),
        Binding("escape", "go_back", "Back", show=False),
        Binding("question_mark", "toggle_help", "Keys"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(
        self,
        *,
        store: EventStore,
        workspace: Workspace | None = None,
        view: str = "dashboard",
        session_id: str | None = None,
        replay_id: str | None = None,
        speed: float = 1.0,
        auto_follow: bool = True,
        prune_policy: tuple[float, int] = DEFAULT_PRUNE_POLICY,
        clock: Callable[[], float] = time.time,
        poll_interval: float = DEFAULT_POLL_INTERVAL_S,
        per_event_paint: bool = False,
    ) -> None:
        super().__init__()
        if view not in VIEWS:
            raise ValueError(f"unknown view {view!r}: use one of {', '.join(VIEWS)}")
        self.store = store
        self.workspace = workspace
        self.start_view = view
        self.start_session = session_id
        self.start_replay = replay_id
        self.speed = speed
        self.auto_follow = auto_follow and session_id is None and replay_id is None \
            and view == "dashboard"
        self.prune_policy = prune_policy
        self.clock = clock
        self.poll_interval = poll_interval
        self.per_event_paint = per_event_paint
        self.poller = StorePoller(store, wake=lambda: self.post_message(SnapshotReady()),
                                  clock=clock)
        self._view_history: list[str] = []
        self._snapshots = 0
        self._snapshot: StoreSnapshot | None = None

    def compose(self) -> ComposeResult:
        with ContentSwitcher(initial=self.start_view, id="views"):
            yield DashboardView(workspace=self.workspace, id="dashboard")
            yield SessionView(store=self.store, clock=self.clock,
                              per_event_paint=self.per_event_paint, id="session")
            yield HistoryView(store=self.store, prune_policy=self.prune_policy, id="history")
        yield StatusBar(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.poller.start()
        if self.start_replay is not None:
            self.open_session(self.start_replay, replay=True)
        elif self.start_session is not None:
            self.open_session(self.start_session)
        else:
            self.show_view(self.start_view, remember=False)

    def on_unmount(self) -> None:
        self.poller.stop()  # the session view stops its own feed when it unmounts

    # -- public API -----------------------------------------------------------------------

    @property
    def session_view(self) -> SessionView:
        return self.query_one("#session", SessionView)

    @property
    def dashboard(self) -> DashboardView:
        return self.query_one("#dashboard", DashboardView)

    @property
    def history(self) -> HistoryView:
        return self.query_one("#history", HistoryView)

    @property
    def current_view(self) -> str:
        return self.query_one("#views", ContentSwitcher).current or self.start_view

    def show_view(self, name: str, *, remember: bool = True) -> None:
        switcher = self.query_one("#views", ContentSwitcher)
        if remember and switcher.current and switcher.current != name:
            self._view_history.append(switcher.current)
            del self._view_history[:-20]
        switcher.current = name
        self.query_one(StatusBar).view = name
        self._push_snapshot()
        target = self._focus_target(name)
        if target is not None:
            target.focus()

    def open_session(self, session_id: str, *, replay: bool = False) -> None:
        """Follow `session_id` live (or replay it) in the session view, and show that view."""
        if replay:
            self.session_view.replay(session_id, speed=self.speed)
        else:
            self.session_view.follow(session_id, poll_interval=self.poll_interval)
        self.show_view("session")

    def _focus_target(self, name: str) -> Widget | None:
        if name == "session":
            return self.session_view.query_one(NodeList)
        if name == "history":
            return self.history.query_one("#sessions", DataTable)
        tables = [table for table in self.dashboard.query(DataTable) if table.display]
        return tables[0] if tables else self.dashboard

    # -- messages -------------------------------------------------------------------------

    def on_snapshot_ready(self, message: SnapshotReady) -> None:
        snapshot, error = self.poller.take()
        if error:
            self.notify(error, title="store", severity="error")
        if snapshot is None:
            return
        self._snapshots += 1
        self._snapshot = snapshot
        self._push_snapshot()
        if self._snapshots == 1 and self.auto_follow:
            active = snapshot.active()
            if active:
                self.open_session(active[0].session_id)
        if self._snapshots == 1 and self.current_view != "session":
            target = self._focus_target(self.current_view)
            if target is not None:
                target.focus()

    def _push_snapshot(self) -> None:
        """Give the newest snapshot to the view on screen (a hidden one gets it when shown)."""
        snapshot = self._snapshot
        if snapshot is None:
            return
        view = self.current_view
        if view == "dashboard" and self.dashboard.snapshot is not snapshot:
            self.dashboard.show_snapshot(snapshot)
        elif view == "history" and self.history.snapshot is not snapshot:
            self.history.show_snapshot(snapshot)

    def on_open_session(self, message: OpenSession) -> None:
        self.open_session(message.session_id, replay=message.replay)

    def on_store_changed(self, message: StoreChanged) -> None:
        self.poller.refresh()

    def on_refresh_requested(self, message: RefreshRequested) -> None:
        self.poller.refresh()

    def on_session_view_changed(self, message: SessionView.Changed) -> None:
        if not self.is_running:
            return
        status = self.query_one(StatusBar)
        status.session = message.label
        status.freshness = message.freshness

    # -- actions --------------------------------------------------------------------------

    def action_show_view(self, name: str) -> None:
        self.show_view(name)

    def action_go_back(self) -> None:
        if self._view_history:
            self.show_view(self._view_history.pop(), remember=False)

    def action_toggle_help(self) -> None:
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()
