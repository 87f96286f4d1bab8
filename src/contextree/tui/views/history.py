"""The history (key 4): every session in the store, newest first.

Rows come from the app's store snapshots, filtered by text, status and date
(`history_filter`), the filter said in the title and kept as sessions arrive; a row's cells
are updated in place, and the table is rebuilt only when the rows shown change. A marked
session (`◆`) is compared with another in a `DiffScreen`. Deleting and pruning ask first, then
run `ctree sessions delete` / `ctree sessions prune` as child processes (the TUI only reads
the store); the history shows the result with the next snapshot.

| Key | Action |
|---|---|
| `enter` | open the highlighted session (live if it is running) |
| `r` | replay it |
| `/` | filter by id, command or status (`escape` clears) |
| `s` | cycle the status shown: all, running, completed, failed, interrupted |
| `t` | cycle the dates shown: all, today, 7 days, 30 days |
| `m` | mark the highlighted session (again: unmark it) |
| `c` | diff the marked session against the highlighted one |
| `d` | delete it (asks first) |
| `p` | prune old ended sessions per the workspace policy (asks first) |
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Input, Static
from textual.widgets.data_table import CellDoesNotExist

from contextree.durations import format_duration
from contextree.errors import ContextreeError
from contextree.progress import EventStore
from contextree.progress.diff import diff_sessions
from contextree.progress.session import ACTIVE
from contextree.tui.data import Progress, SessionRow, StoreSnapshot
from contextree.tui.format import (
    SESSION_STYLES,
    format_count,
    format_ms,
    format_start,
    plural,
    unique_prefixes,
)
from contextree.tui.messages import OpenSession, RunCommand
from contextree.tui.views import view_title
from contextree.tui.views.history_diff import DiffScreen
from contextree.tui.views.history_filter import HistoryFilter
from contextree.tui.widgets.confirm import ConfirmDialog
from contextree.tui.widgets.filter_field import FilterField

COLUMNS = ("session", "started", "command", "duration", "status", "nodes")
"""What SPEC §8 lists; nodes done and failed share a column, so 80 columns hold them all."""
Cells = tuple[str | Text, ...]
MARKER = "◆ "
"""Before the id of the marked session."""


def row_cells(row: SessionRow, short_id: str, now_s: float, *, marked: bool = False) -> Cells:
    """A session's cells. A running one shows its level as its status and its progress
    (done/total and percent) as its nodes; an ended one its nodes done, then failed. The
    marked session's id starts with `MARKER`."""
    record = row.record
    shown_id: str | Text = Text.assemble((MARKER, "bold magenta"), short_id) if marked \
        else short_id
    status = Text(row.status, style=SESSION_STYLES.get(row.status, ""))
    if row.status == ACTIVE:
        status, nodes = running_cells(row.progress)
    else:
        nodes = Text(format_count(row.counts.done))
        if row.counts.failed:
            nodes.append(f" ✗{row.counts.failed:,}", style="red")
    return (shown_id, format_start(record.started_at, now_s), record.command,
            Text(format_ms(row.duration_ms), justify="right"), status,
            nodes)


def running_cells(progress: Progress | None) -> tuple[Text, Text]:
    """`▶ level 2/4` and `42/120 35%` for a running session."""
    level = f"▶ level {progress.level}/{progress.levels}" if progress is not None \
        and progress.level is not None and progress.levels else "▶ running"
    if progress is None:
        done = ""
    elif progress.ratio is None:
        done = format_count(progress.done)
    else:
        done = f"{progress.done:,}/{progress.total:,} {progress.ratio:.0%}"
    return Text(level, style="cyan"), Text(done, style="cyan")


class HistoryView(Vertical):
    """All sessions, with filters, open, replay, mark and diff, delete and prune."""

    HELP_TITLE = view_title("history")
    HELP_POINTER: ClassVar[list[tuple[str, str]]] = [
        ("enter", "open the highlighted session (live while it runs)"),
        ("click", "highlight a session; click it again to open it"),
    ]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter"),
        Binding("s", "cycle_status", "Status"),
        Binding("t", "cycle_period", "Date"),
        Binding("m", "mark", "Mark"),
        Binding("c", "diff", "Diff"),
        Binding("r", "replay", "Replay"),
        Binding("d", "delete", "Delete"),
        Binding("p", "prune", "Prune"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    def __init__(self, *, store: EventStore, prune_policy: tuple[float, int],
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self.store = store
        self.prune_policy = prune_policy
        self.snapshot: StoreSnapshot | None = None
        self.filter = HistoryFilter()
        self.marked_id: str | None = None
        self._shown: list[tuple[str, Cells]] = []

    def compose(self) -> ComposeResult:
        yield FilterField(
            placeholder="filter: id, command or status — enter to apply, escape to clear",
            id="filter")
        yield Static("reading the store…", id="history-empty")
        yield DataTable(id="sessions", cursor_type="row")

    def on_mount(self) -> None:
        self.query_one("#sessions", DataTable).add_columns(*COLUMNS)
        self.border_title = "History"

    # -- data -----------------------------------------------------------------------------

    def show_snapshot(self, snapshot: StoreSnapshot) -> None:
        self.snapshot = snapshot
        self._render_rows()

    def _render_rows(self) -> None:
        if self.snapshot is None:
            return
        snapshot = self.snapshot
        if self.marked_id is not None and self._row(self.marked_id) is None:
            self.marked_id = None  # deleted or pruned meanwhile
        short = unique_prefixes(row.session_id for row in snapshot.rows)
        wanted = [(row.session_id, row_cells(row, short[row.session_id], snapshot.taken_s,
                                             marked=row.session_id == self.marked_id))
                  for row in snapshot.rows if self.filter.matches(row, snapshot.taken_s)]
        table = self.query_one("#sessions", DataTable)
        if [key for key, _ in wanted] == [key for key, _ in self._shown]:
            for (key, cells), (_, old) in zip(wanted, self._shown, strict=True):
                for column, (value, previous) in enumerate(zip(cells, old, strict=True)):
                    if value != previous:
                        table.update_cell(key, table.ordered_columns[column].key, value)
        else:
            cursor_key = self.highlighted_id()
            table.clear()
            for key, cells in wanted:
                table.add_row(*cells, key=key)
            keys = [key for key, _ in wanted]
            if cursor_key in keys:
                table.move_cursor(row=keys.index(cursor_key), animate=False)
        self._shown = wanted
        empty = self.query_one("#history-empty", Static)
        empty.display = not wanted
        empty.update("no sessions match the filter" if self.snapshot.rows
                     else "no sessions yet — run `ctree scan` or `ctree context generate`")
        marked = short[self.marked_id] if self.marked_id is not None else None
        self.border_title = self.title_text(len(wanted), len(snapshot.rows), marked)

    def title_text(self, shown: int, total: int, marked: str | None) -> str:
        """`History · 3 of 12 sessions · failed · 7 days · “scan” · ◆ 01M8PKMQ`: what the
        filter lets through, then the marked session's short id."""
        count = f"{total:,}" if shown == total else f"{shown:,} of {total:,}"
        parts = ["History", f"{count} {'session' if total == 1 else 'sessions'}",
                 *self.filter.describe()]
        if marked is not None:
            parts.append(f"{MARKER}{marked}")
        return " · ".join(parts)

    def highlighted_id(self) -> str | None:
        table = self.query_one("#sessions", DataTable)
        if not table.row_count:
            return None
        try:
            return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        except CellDoesNotExist:
            return None

    def _row(self, session_id: str) -> SessionRow | None:
        rows = self.snapshot.rows if self.snapshot else []
        return next((row for row in rows if row.session_id == session_id), None)

    # -- filter ---------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_filter":  # otherwise `escape` goes back to the previous view
            return self.query_one("#filter", FilterField).in_use
        return True

    def action_cycle_status(self) -> None:
        self.filter = self.filter.next_status()
        self._render_rows()

    def action_cycle_period(self) -> None:
        self.filter = self.filter.next_period()
        self._render_rows()

    def action_filter(self) -> None:
        self.query_one("#filter", FilterField).open()

    def action_clear_filter(self) -> None:
        self.query_one("#filter", FilterField).clear()
        self.query_one("#sessions").focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter = replace(self.filter, text=event.value)
        self._render_rows()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        if not self.filter.text:
            self.query_one("#filter").display = False
        self.query_one("#sessions").focus()

    # -- open, replay, delete, prune ------------------------------------------------------

    @on(DataTable.RowSelected, "#sessions")
    def _open(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.post_message(OpenSession(event.row_key.value))

    def action_replay(self) -> None:
        session_id = self.highlighted_id()
        if session_id is not None:
            self.post_message(OpenSession(session_id, replay=True))

    # -- mark and diff --------------------------------------------------------------------

    def action_mark(self) -> None:
        session_id = self.highlighted_id()
        if session_id is not None:
            self.marked_id = None if session_id == self.marked_id else session_id
            self._render_rows()

    def action_diff(self) -> None:
        session_id = self.highlighted_id()
        if self.marked_id is None or session_id is None:
            self.notify("mark a session with m first, then press c on the one to compare it "
                        "with", severity="warning")
            return
        self._load_diff(self.marked_id, session_id)

    @work(thread=True, group="store-read")
    def _load_diff(self, a_id: str, b_id: str) -> None:
        """Replay both sessions off the UI's loop, then show their diff."""
        try:
            result = diff_sessions(self.store, a_id, b_id)
        except ContextreeError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        self.app.call_from_thread(self.app.push_screen, DiffScreen(result))

    def action_delete(self) -> None:
        session_id = self.highlighted_id()
        row = self._row(session_id) if session_id else None
        if row is None:
            return
        if row.status == ACTIVE:
            self.notify(f"session {row.session_id[:10]} is still running (pid {row.record.pid})"
                        " — stop it first", severity="error")
            return
        question = (f"Delete session {row.session_id} ({row.record.command}, {row.status}) "
                    f"and its {plural(row.event_count, 'event')}?")

        def answered(yes: bool | None) -> None:
            if yes:
                self.post_message(RunCommand(f"sessions delete {row.session_id}", quiet=True))

        self.app.push_screen(ConfirmDialog(question=question, yes_label="Delete"), answered)

    def action_prune(self) -> None:
        self._count_prunable()

    @work(thread=True, group="store-read")
    def _count_prunable(self) -> None:
        """How many sessions a prune would remove (a dry run only reads the store)."""
        max_age_s, max_count = self.prune_policy
        try:
            result = self.store.prune(max_age_s=max_age_s, max_count=max_count,
                                      now_s=time.time(), dry_run=True)
        except ContextreeError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        count = len(result.removed)
        if not count:
            self.app.call_from_thread(self.notify, "nothing to prune: no ended session is older "
                                      f"than {_days(max_age_s)} or beyond the newest {max_count}")
        else:
            self.app.call_from_thread(self._confirm_prune, count)

    def _confirm_prune(self, count: int) -> None:
        max_age_s, max_count = self.prune_policy
        question = (f"Prune {plural(count, 'ended session')} older than {_days(max_age_s)} or "
                    f"beyond the newest {max_count}? Active and interrupted sessions are kept.")

        def answered(yes: bool | None) -> None:
            if yes:
                self.post_message(RunCommand(
                    f"sessions prune --max-age {format_duration(max_age_s)} "
                    f"--max-count {max_count}", quiet=True))

        self.app.push_screen(ConfirmDialog(question=question, yes_label="Prune"), answered)


def _days(seconds: float) -> str:
    days = seconds / 86400
    if days >= 1:
        return plural(int(days), "day") if days == int(days) else f"{days:g} days"
    return format_ms(int(seconds * 1000))
