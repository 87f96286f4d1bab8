"""The dashboard (key 1): the workspace, the operations running now, the recent sessions.

Active operations include sessions running in other processes: the app's store poller reads a
new snapshot whenever any process commits, and pushes it here with `show_snapshot`.

`g` and `s` run `context generate` and `scan` through the command bar's runner; the app then
switches to the session view to watch them.

| Key | Action |
|---|---|
| `enter` | open the highlighted session |
| `g` | generate context for the whole workspace |
| `s` | scan the workspace |
| `r` | read the store again now |
| `tab` | next table |
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Static
from textual.widgets.data_table import CellDoesNotExist

from contextree.engine.workspace.layout import Workspace
from contextree.progress.session import HOST
from contextree.tui.data import SessionRow, StoreSnapshot
from contextree.tui.format import (
    SESSION_STYLES,
    format_bytes,
    format_count,
    format_ms,
    format_progress,
    format_start,
    plural,
    unique_prefixes,
)
from contextree.tui.messages import OpenSession, RefreshRequested, RunCommand
from contextree.tui.views import view_title

RECENT_SHOWN = 12
OWNER_COLUMN_FROM = 100
"""The active operations show their owner's pid from this width on."""
STATUS_ORDER = ("active", "completed", "failed", "interrupted")


class DashboardView(Vertical):
    """Workspace summary, active operations and recent sessions."""

    HELP_TITLE = view_title("dashboard")
    HELP_POINTER: ClassVar[list[tuple[str, str]]] = [
        ("enter", "open the highlighted session (live while it runs)"),
        ("tab", "next table"),
        ("click", "highlight a session; click it again to open it"),
    ]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("g", "run('context generate')", "Generate"),
        Binding("s", "run('scan')", "Scan"),
        Binding("r", "refresh", "Refresh"),
    ]

    def __init__(self, *, workspace: Workspace | None, id: str | None = None) -> None:
        super().__init__(id=id)
        self.workspace = workspace
        self.snapshot: StoreSnapshot | None = None
        self._owner_shown = True

    def compose(self) -> ComposeResult:
        with Vertical(id="workspace-box", classes="box"):
            yield Static("reading the store…", id="summary")
        with Vertical(id="active-box", classes="box"):
            yield Static("no operation is running", id="no-active")
            yield DataTable(id="active", cursor_type="row", zebra_stripes=False)
        with Vertical(id="recent-box", classes="box"):
            yield Static("no sessions yet — run `ctree scan` or `ctree context generate`",
                         id="no-recent")
            yield DataTable(id="recent", cursor_type="row")

    def on_mount(self) -> None:
        self.query_one("#workspace-box").border_title = "Workspace"
        self.query_one("#active-box").border_title = "Active operations"
        self.query_one("#recent-box").border_title = "Recent sessions"
        self._active_columns()
        self.query_one("#recent", DataTable).add_columns(
            "session", "started", "command", "duration", "status", "events")

    def _active_columns(self) -> None:
        """The active table's columns; the owner's pid only where it fits beside the rest
        (at 80 columns it would push the table past its box, cutting the pid)."""
        self._owner_shown = self.size.width >= OWNER_COLUMN_FROM
        table = self.query_one("#active", DataTable)
        table.clear(columns=True)
        table.add_columns("session", "command", "progress", "running", "events",
                          *(["pid"] if self._owner_shown else []))

    def on_resize(self) -> None:
        if (self.size.width >= OWNER_COLUMN_FROM) != self._owner_shown:
            self._active_columns()
            if self.snapshot is not None:
                self.show_snapshot(self.snapshot)

    def show_snapshot(self, snapshot: StoreSnapshot) -> None:
        self.snapshot = snapshot
        self.query_one("#summary", Static).update(self.summary_text(snapshot))
        active = snapshot.active()
        short = unique_prefixes(row.session_id for row in snapshot.rows)
        owner = self._owner_shown
        self._fill("#active", active, lambda row: active_cells(row, short, owner=owner))
        self._fill("#recent", snapshot.rows[:RECENT_SHOWN],
                   lambda row: recent_cells(row, short, snapshot.taken_s))
        self.query_one("#no-active").display = not active
        active_table = self.query_one("#active", DataTable)
        appeared = bool(active) and not active_table.display
        left_focused = not active and active_table.display and active_table.has_focus
        active_table.display = bool(active)
        if appeared and self.has_focus_within:
            active_table.focus()  # an operation just started: enter follows it
        self.query_one("#no-recent").display = not snapshot.rows
        recent = self.query_one("#recent", DataTable)
        recent.display = bool(snapshot.rows)
        if left_focused and recent.display:
            recent.focus()  # the last operation ended: the view's keys stay with the view

    def summary_text(self, snapshot: StoreSnapshot) -> Text:
        text = Text()

        def row(label: str, value: str | Text) -> None:
            text.append(f"{label:<11}", style="dim")
            text.append(value)
            text.append("\n")

        row("workspace", str(self.workspace.root) if self.workspace else "—")
        row("store", store_label(self.workspace, snapshot.store_path))
        tree = snapshot.tree
        if tree is None:
            row("tree", Text("no scan yet — run `ctree scan`", style="dim"))
        else:
            row("tree", f"{format_count(tree.node_count)} nodes · "
                        f"{format_count(tree.file_count)} files · "
                        f"{format_count(tree.dir_count)} directories · "
                        f"{format_bytes(tree.total_bytes)}")
            row("", Text(f"updated {format_start(tree.updated_at, snapshot.taken_s)} · root "
                         f"{(tree.root_id or '—')[:16]}", style="dim"))
        if snapshot.coverage:
            row("coverage", coverage_text(snapshot.coverage))
        counts = snapshot.status_counts()
        sessions = Text(plural(len(snapshot.rows), "session"))
        for status in STATUS_ORDER:
            if counts[status]:
                sessions.append(" · ")
                sessions.append(f"{counts[status]:,} {status}", style=SESSION_STYLES[status])
        row("sessions", sessions)
        text.rstrip()
        return text

    def _fill(self, selector: str, rows: list[SessionRow],
              cells: Callable[[SessionRow], tuple[str | Text, ...]]) -> None:
        table = self.query_one(selector, DataTable)
        cursor_key = _cursor_key(table)
        table.clear()
        for row in rows:
            table.add_row(*cells(row), key=row.session_id)
        if cursor_key is not None:
            for index, row in enumerate(rows):
                if row.session_id == cursor_key:
                    table.move_cursor(row=index, animate=False)
                    break

    @on(DataTable.RowSelected)
    def _open(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.post_message(OpenSession(event.row_key.value))

    def action_refresh(self) -> None:
        self.post_message(RefreshRequested())

    def action_run(self, line: str) -> None:
        self.post_message(RunCommand(line))


def active_cells(row: SessionRow, short: dict[str, str], *,
                 owner: bool = True) -> tuple[str | Text, ...]:
    """An operation running now: its progress first, then how long, then who runs it."""
    record = row.record
    cells: tuple[str | Text, ...] = (
        short.get(row.session_id, row.session_id), record.command,
        Text(format_progress(row.progress), style="cyan"),
        Text(format_ms(row.duration_ms), justify="right"),
        Text(format_count(row.event_count), justify="right"))
    if owner:
        cells += (f"{record.pid}" + (f"@{record.host}" if record.host != HOST else ""),)
    return cells


def recent_cells(row: SessionRow, short: dict[str, str],
                 now_s: float) -> tuple[str | Text, ...]:
    record = row.record
    return (short.get(row.session_id, row.session_id), format_start(record.started_at, now_s),
            record.command, Text(format_ms(row.duration_ms), justify="right"),
            Text(row.status, style=SESSION_STYLES.get(row.status, "")),
            Text(format_count(row.event_count), justify="right"))


def coverage_text(coverage: dict[str, tuple[int, int]]) -> Text:
    """`docs 12/15 (80%) · review 3/15 (20%)`: context coverage per agent."""
    text = Text()
    for index, (agent, (covered, total)) in enumerate(coverage.items()):
        if index:
            text.append(" · ", style="dim")
        ratio = covered / total if total else 0.0
        style = "green" if total and covered == total else "yellow" if covered else "dim"
        text.append(f"{agent} ")
        text.append(f"{covered:,}/{total:,} ({ratio:.0%})", style=style)
    return text


def store_label(workspace: Workspace | None, fallback: Path | None) -> str:
    """The store's path, relative to the workspace when it lives inside it."""
    path = workspace.store_path if workspace is not None else fallback
    if path is None:
        return "—"
    if workspace is not None and path.is_relative_to(workspace.root):
        return str(path.relative_to(workspace.root))
    return str(path)


def _cursor_key(table: DataTable[object]) -> str | None:
    if not table.row_count:
        return None
    try:
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
    except CellDoesNotExist:
        return None
