"""The `ctree tui` application: four views on keys 1–4, the command bar, a status bar.

The app owns the store (it only reads it), the store poller (session list, from any process),
the command runner (commands typed after `:` or asked for by a view's key, each a `ctree`
child process) and navigation; the views own their feeds. Nothing here reads LMDB on the event
loop: threads read, post a message, and the UI takes the newest data when it handles it. A
command that does work switches to the session view, which follows its session from the store
like any other (found by the child's pid); a short one shows its output.

| Key | Action |
|---|---|
| `1` | dashboard |
| `2` | session view (the followed or replayed session; with none yet, the one running) |
| `3` | content browser |
| `4` | history |
| `:` | command bar: run any `ctree` command |
| `escape` | back to the previous view |
| `x` | cancel the command started here that runs (as Ctrl-C would) |
| `[` / `]` | replay: back / forward 10 % of the session's events |
| `{` / `}` | replay: to the start / to the end |
| `R` | replay: restart from the first event |
| `?` | the keys of the current view, then the global ones |
| `q` | quit (asks first while a command started here runs: leave it, cancel it, stay) |
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.widget import Widget
from textual.widgets import ContentSwitcher, DataTable

from contextree.engine.workspace.layout import Workspace
from contextree.errors import UsageError
from contextree.progress import EventStore
from contextree.progress.follow import DEFAULT_POLL_INTERVAL_S
from contextree.progress.retention import DEFAULT_MAX_AGE_S, DEFAULT_MAX_COUNT
from contextree.tui.command_history import HISTORY_FILE, CommandHistory
from contextree.tui.commands import CANCEL_WAIT_S, CommandRunner, running_summary
from contextree.tui.completion import Completion, KnownValues, complete
from contextree.tui.data import SessionRow, StoreSnapshot, operation_changes
from contextree.tui.feeds import ReplayFeed
from contextree.tui.format import format_ms
from contextree.tui.log_to_ui import UiLogHandler
from contextree.tui.messages import (
    CommandFinished,
    LogNotice,
    OpenSession,
    RefreshRequested,
    RunCommand,
)
from contextree.tui.poller import StorePoller
from contextree.tui.tuning import UiTuning
from contextree.tui.views import VIEWS, view_title
from contextree.tui.views.dashboard import DashboardView
from contextree.tui.views.history import HistoryView
from contextree.tui.views.session import SessionView
from contextree.tui.widgets.command_bar import CommandBar
from contextree.tui.widgets.confirm import QUIT_CANCEL, QUIT_LEAVE, ConfirmDialog, QuitDialog
from contextree.tui.widgets.help_screen import HelpScreen, help_sections
from contextree.tui.widgets.key_footer import KeyFooter
from contextree.tui.widgets.node_list import NodeList
from contextree.tui.widgets.output_screen import OutputScreen
from contextree.tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from contextree.tui.views.content import ContentView

VIEW_KEYS = Binding.Group("views", compact=True)
SEEK_KEYS = Binding.Group("seek ±10%", compact=True)
REPLAY_ACTIONS = frozenset({"seek", "seek_end", "restart_replay"})
DEFAULT_PRUNE_POLICY = (DEFAULT_MAX_AGE_S, DEFAULT_MAX_COUNT)
SESSIONS_COMPLETED = 20
ENDED_SEVERITY: dict[str, SeverityLevel] = {"completed": "information", "failed": "error",
                                            "interrupted": "warning"}


class SnapshotReady(Message):
    """The store poller has a new snapshot; a burst collapses into one."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SnapshotReady)


class ContentSlot(Container):
    """Where the content view (key 3) is mounted the first time it is shown: it reads the
    engine's configuration and renders markdown, and importing it cost the TUI's first paint
    ~100 ms that most sessions never use."""

    DEFAULT_CSS = "ContentSlot { height: 1fr; overflow: hidden; }"

    @property
    def HELP_TITLE(self) -> str:  # the help reads these from a view
        return view_title("content")

    @property
    def HELP_POINTER(self) -> list[tuple[str, str]]:
        return list(getattr(self._view, "HELP_POINTER", []))

    @property
    def _view(self) -> Widget | None:
        return self.children[0] if self.children else None


class CtreeApp(App[None]):
    """contextree's terminal UI; see the module docstring for keys."""

    CSS_PATH = "app.tcss"
    TITLE = "contextree"
    session_view_class: ClassVar[type[SessionView]] = SessionView
    """The session view to build (a benchmark swaps in one that paints differently)."""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "show_view('dashboard')", "Dashboard", group=VIEW_KEYS),
        Binding("2", "show_view('session')", "Session", group=VIEW_KEYS),
        Binding("3", "show_view('content')", "Content", group=VIEW_KEYS),
        Binding("4", "show_view('history')", "History", group=VIEW_KEYS),
        Binding("colon", "command_bar", "Command"),
        Binding("escape", "go_back", "Back", show=False),
        Binding("x", "cancel_command", "Cancel run"),
        Binding("left_square_bracket", "seek(-0.1)", "−10%", group=SEEK_KEYS),
        Binding("right_square_bracket", "seek(0.1)", "+10%", group=SEEK_KEYS),
        Binding("left_curly_bracket", "seek_end(0)", "Start", show=False),
        Binding("right_curly_bracket", "seek_end(1)", "End", show=False),
        Binding("R", "restart_replay", "Restart"),
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
        self.poller = StorePoller(store, wake=lambda: self.post_message(SnapshotReady()),
                                  workspace=workspace, clock=clock)
        self.runner = CommandRunner(
            workspace, on_finished=lambda run: self.post_message(CommandFinished(run)),
        ) if workspace is not None else None
        self.command_history = CommandHistory(
            workspace.ctree_dir / HISTORY_FILE if workspace is not None else None)
        self._log_handler = UiLogHandler(lambda text, severity: self.post_message(
            LogNotice(text, severity)))
        self._command_bar: CommandBar | None = None
        self._output_screens: dict[int, OutputScreen] = {}
        self._quitting = False
        self._known_values = KnownValues(workspace, sessions=self._recent_session_ids)
        self._view_history: list[str] = []
        self._snapshots = 0
        self._snapshot: StoreSnapshot | None = None
        self._replay_paused = False
        self.tuning = UiTuning()

    def compose(self) -> ComposeResult:
        with ContentSwitcher(initial=self.start_view, id="views"):
            yield DashboardView(workspace=self.workspace, id="dashboard")
            yield self.session_view_class(store=self.store, clock=self.clock, id="session")
            yield ContentSlot(id="content")
            yield HistoryView(store=self.store, prune_policy=self.prune_policy, id="history")
        yield StatusBar(id="status")
        yield KeyFooter(labeller=self.binding_label)

    def on_mount(self) -> None:
        self.tuning.apply()
        self._log_handler.install()
        self.poller.start()
        if self.start_replay is not None:
            self.open_session(self.start_replay, replay=True)
        elif self.start_session is not None:
            self.open_session(self.start_session)
        else:
            self.show_view(self.start_view, remember=False)

    def on_unmount(self) -> None:
        self.poller.stop()  # the session view stops its own feed when it unmounts
        if self.runner is not None:  # e.g. ctrl+q: no command outlives the TUI unasked
            self.runner.cancel_all()
        self._log_handler.uninstall()
        self.tuning.release()

    # -- public API -----------------------------------------------------------------------

    @property
    def session_view(self) -> SessionView:
        return self.query_one("#session", SessionView)

    @property
    def dashboard(self) -> DashboardView:
        return self.query_one("#dashboard", DashboardView)

    @property
    def content(self) -> ContentView:
        """The content view (mounted the first time it is shown: see `ContentSlot`)."""
        from contextree.tui.views.content import ContentView

        return self.query_one("#content-view", ContentView)

    @property
    def content_mounted(self) -> bool:
        return bool(self.query_one(ContentSlot).children)

    async def mount_content(self) -> ContentView:
        """Mount the content view in its slot if it is not yet (imports it then)."""
        from contextree.tui.views.content import ContentView

        slot = self.query_one(ContentSlot)
        if not slot.children:
            await slot.mount(ContentView(store=self.store, workspace=self.workspace,
                                         id="content-view"))
        return self.content

    async def _show_content(self) -> None:
        view = await self.mount_content()
        if self.current_view == "content":
            view.activate()
            self._focus_view("content")

    @property
    def history(self) -> HistoryView:
        return self.query_one("#history", HistoryView)

    @property
    def command_bar(self) -> CommandBar:
        """The command bar; mounted the first time it is opened (until then it costs the
        layout nothing)."""
        if self._command_bar is None:
            self._command_bar = CommandBar(history=self.command_history,
                                           completer=self.complete_line, id="command-bar")
        return self._command_bar

    @property
    def command_bar_open(self) -> bool:
        return self._command_bar is not None and self._command_bar.is_open

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
        if name == "content":
            self.call_later(self._show_content)
        self._focus_view(name)

    def open_session(self, session_id: str, *, replay: bool = False) -> None:
        """Follow `session_id` live (or replay it) in the session view, and show that view."""
        if replay:
            self.session_view.replay(session_id, speed=self.speed)
        else:
            self.session_view.follow(session_id, poll_interval=self.poll_interval)
        self.show_view("session")

    def run_command(self, line: str, *, quiet: bool = False) -> None:
        """Check `line` against the `ctree` command tree and run it as a child process; an
        invalid line runs nothing. A `quiet` one only notifies how it ended."""
        if self.runner is None:
            self.notify("no workspace: commands need one — start the TUI inside it",
                        severity="error")
            return
        try:
            run = self.runner.start(line, quiet=quiet)
        except UsageError as exc:
            if self.command_bar_open:
                self.command_bar.show_error(str(exc))
            else:
                self.notify(str(exc), title=line, severity="error")
            return
        if self.command_bar_open:
            self.command_bar.close()
            self._focus_view(self.current_view)
        self.refresh_bindings()
        if run.quiet:
            self.notify(f"started `{run.line}`", timeout=2)
        elif not run.live:  # a live one is announced when its session starts
            screen = OutputScreen(line=run.line)
            self._output_screens[run.run_id] = screen
            self.push_screen(screen)

    def complete_line(self, line: str) -> Completion:
        root = self.workspace.root if self.workspace is not None else None
        return complete(line, workspace_root=root, values=self._known_values)

    def _recent_session_ids(self) -> list[str]:
        rows = self._snapshot.rows if self._snapshot is not None else []
        return [row.session_id for row in rows[:SESSIONS_COMPLETED]]

    def _focus_view(self, name: str) -> None:
        target = self._focus_target(name)
        if target is not None:
            target.focus()

    def _focus_target(self, name: str) -> Widget | None:
        if name == "session":
            return self.session_view.query_one(NodeList)
        if name == "history":
            return self.history.query_one("#sessions", DataTable)
        if name == "content":
            if not self.content_mounted:
                return None
            tree = self.content.content_tree
            return tree if tree.display else self.content.panel
        tables = [table for table in self.dashboard.query(DataTable) if table.display]
        return tables[0] if tables else self.dashboard

    # -- messages -------------------------------------------------------------------------

    def on_snapshot_ready(self, message: SnapshotReady) -> None:
        if not self.is_running:  # shutting down: the views are gone
            return
        snapshot, error = self.poller.take()
        if error:
            self.notify(error, title="store", severity="error")
        if snapshot is None:
            return
        self._snapshots += 1
        previous, self._snapshot = self._snapshot, snapshot
        if previous is not None:
            self._announce_operations(previous, snapshot)
        self.query_one(StatusBar).running = len(snapshot.active())
        self._adopt_command_sessions(snapshot)
        self._push_snapshot()
        if self._snapshots == 1 and self.auto_follow:
            active = snapshot.active()
            if active:
                self.open_session(active[0].session_id)
        if self._snapshots == 1 and self.current_view not in ("session", "content") \
                and not self.command_bar_open:
            self._focus_view(self.current_view)

    def _announce_operations(self, before: StoreSnapshot, after: StoreSnapshot) -> None:
        """A toast and the status-bar marker for each operation that started or ended, in
        any process."""
        started, ended = operation_changes(before, after)
        status = self.query_one(StatusBar)
        for row in started:
            record = row.record
            status.last_change = (record.command, "started")
            self.notify(f"{record.command} started in pid {record.pid}",
                        title="operation started", timeout=4)
        for row in ended:
            record = row.record
            status.last_change = (record.command, row.status)
            self.notify(ended_text(row), title=f"operation {row.status}",
                        severity=ENDED_SEVERITY.get(row.status, "information"), timeout=6)

    def _adopt_command_sessions(self, snapshot: StoreSnapshot) -> None:
        """Find the sessions of the commands started here; follow those that do work."""
        if self.runner is None:
            return
        for run in self.runner.adopt_sessions(row.record for row in snapshot.rows[:50]):
            if run.live and run.session_id is not None and not self._quitting:
                self.open_session(run.session_id)

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
        elif view == "content" and self.content_mounted:
            self.content.activate()

    def on_open_session(self, message: OpenSession) -> None:
        self.open_session(message.session_id, replay=message.replay)

    def on_refresh_requested(self, message: RefreshRequested) -> None:
        self.poller.refresh()

    def on_session_view_changed(self, message: SessionView.Changed) -> None:
        if not self.is_running:
            return
        status = self.query_one(StatusBar)
        status.session = message.label
        status.freshness = message.freshness
        feed = self.session_view.replay_feed
        status.replay = replay_text(feed) if feed is not None else ""
        paused = feed is not None and feed.paused
        if paused != self._replay_paused:  # the footer's pause key reads Pause or Resume
            self._replay_paused = paused
            self.refresh_bindings()

    def on_run_command(self, message: RunCommand) -> None:
        self.run_command(message.line, quiet=message.quiet)

    def on_command_bar_submitted(self, message: CommandBar.Submitted) -> None:
        self.run_command(message.line)

    def on_command_bar_closed(self, message: CommandBar.Closed) -> None:
        self._focus_view(self.current_view)

    def on_command_finished(self, message: CommandFinished) -> None:
        if not self.is_running:  # shutting down: the views are gone
            return
        run = message.run
        self.refresh_bindings()
        screen = self._output_screens.pop(run.run_id, None)
        if screen is not None and not screen.closed and run.result is not None:
            screen.show_result(run.result)
        elif run.result is not None and not self._quitting:
            self.notify(run.summary(), title=f"ctree {run.line}",
                        severity="information" if run.result.ok else "error")
        self.poller.refresh()
        if self.current_view == "content" and self.content_mounted:
            self.content.activate(force=True)
        if self._quitting and self.runner is not None and not self.runner.running():
            self.exit()

    def on_log_notice(self, message: LogNotice) -> None:
        if not self.is_running:  # shutting down: the views are gone
            return
        self.notify(message.text, severity="error" if message.severity == "error"
                    else "warning")

    # -- actions --------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("show_view", "command_bar", "go_back"):
            return len(self.screen_stack) == 1  # not behind a dialog
        if action == "cancel_command":  # shown only while a command started here runs
            return self.runner is not None and bool(self.runner.running())
        if action in REPLAY_ACTIONS:  # shown only while a replay is on screen
            return len(self.screen_stack) == 1 and self.current_view == "session" \
                and self.session_view.replay_feed is not None
        return True

    def action_show_view(self, name: str) -> None:
        active = self._snapshot.active() if self._snapshot is not None else []
        if name == "session" and self.session_view.session_id is None and active:
            self.open_session(active[0].session_id)  # nothing followed yet: what runs now
            return
        self.show_view(name)

    def action_go_back(self) -> None:
        if self._view_history:
            self.show_view(self._view_history.pop(), remember=False)

    async def action_command_bar(self) -> None:
        bar = self.command_bar
        if not bar.is_mounted:
            await self.mount(bar, before=self.query_one(StatusBar))
        bar.open()
        self.screen.set_focus(bar.input)  # now: a key typed right after `:` must reach it

    def action_seek(self, fraction: float) -> None:
        feed = self.session_view.replay_feed
        if feed is not None:
            feed.seek_by(fraction)

    def action_seek_end(self, end: int) -> None:
        feed = self.session_view.replay_feed
        if feed is not None:
            feed.seek(feed.total if end else 0)

    def action_restart_replay(self) -> None:
        feed = self.session_view.replay_feed
        if feed is not None:
            feed.restart()

    def binding_label(self, binding: Binding) -> str:
        """What a footer key says now: `Resume` for the replay's pause key while paused."""
        feed = self.session_view.replay_feed if self.current_view == "session" else None
        if binding.action == "toggle_pause" and feed is not None and feed.paused:
            return "Resume"
        return binding.description

    def action_cancel_command(self) -> None:
        """Cancel the newest command started here that still runs."""
        running = self.runner.running() if self.runner is not None else []
        if not running or self.runner is None:
            return
        run = running[-1]
        self.runner.cancel(run)
        self.notify(f"cancelling `{run.line}`…", timeout=3)

    async def action_toggle_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss(None)
            return
        await self.mount_content()  # its keys are read from the mounted view
        self.push_screen(HelpScreen(help_sections(self, current=self.current_view, extra=[
            ("Command bar (:)", [CommandBar]),
            ("Command output", [OutputScreen]),
            ("Quitting while a command runs", [QuitDialog]),
            ("Confirmation", [ConfirmDialog]),
        ])))

    async def action_quit(self) -> None:
        running = self.runner.running() if self.runner is not None else []
        if not running:
            self.exit()
            return

        def answered(answer: str | None) -> None:
            if self.runner is None:
                return
            if answer == QUIT_LEAVE:
                left = self.runner.leave_running()
                self.exit(message="left running: " + ", ".join(
                    f"`ctree {run.line}` (pid {run.pid})" for run in left))
            elif answer == QUIT_CANCEL:
                self._quitting = True
                self.notify("cancelling…", timeout=CANCEL_WAIT_S)
                for run in self.runner.running():
                    self.runner.cancel(run)
                self.set_timer(CANCEL_WAIT_S, self.exit)  # should a command not stop

        self.push_screen(QuitDialog(running=running_summary(running)), answered)


def ended_text(row: SessionRow) -> str:
    """`context.generate completed in 3.2 s`, or failed with its error."""
    record = row.record
    text = f"{record.command} {row.status}"
    if row.duration_ms is not None:
        text += f" in {format_ms(row.duration_ms)}"
    if record.error and row.status != "completed":
        text += f": {record.error.splitlines()[0]}"
    return text


def replay_text(feed: ReplayFeed) -> str:
    """`paused 120/735 · #120 level_started`: where a replay is, the last event it applied."""
    state = "paused" if feed.paused else "▶"
    text = f"{state} {feed.position:,}/{feed.total:,}"
    event = feed.last_event
    if event is not None:
        text += f" · #{event.seq} {event.type}"
    return text
