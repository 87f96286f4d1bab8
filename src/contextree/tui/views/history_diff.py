"""The diff of two sessions from the history: the marked one (A) against another (B).

The summary `ctree sessions diff` prints, then its node list (`progress/diff_rollup`: the
differing nodes by directory, a directory that differs alike throughout as one row) as a table:
the node, its outcome in A → B (B's coloured), the deltas of tokens, provider latency, queue
wait and retries, and what changed. The table scrolls both ways.

| Key | Action |
|---|---|
| `escape` / `q` | close |
| `↑` `↓` `pgup` `pgdn` `←` `→` | scroll the nodes |
| `tab` | switch to the summary (it scrolls when the screen is short) |
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.widgets import DataTable, Static

from contextree.progress.diff import DELTAS, SessionDiff
from contextree.progress.diff_rollup import (
    DELTA_NAMES,
    DiffEntry,
    format_figure,
    rolled_up,
    summary_lines,
)
from contextree.tui.widgets.box_screen import BOX_CLASS, BoxScreen

OUTCOME_STYLES = {"failed": "red", "absent": "yellow", "skipped": "yellow",
                  "generated": "green", "up to date": "dim"}
"""The colour of B's outcome."""
COLUMNS = ("node", "A → B", *(DELTA_NAMES[name] for name in DELTAS), "changed")


class DiffScreen(BoxScreen):
    """Sessions A and B compared; see the module docstring."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close"),
    ]

    DEFAULT_CSS = """
    DiffScreen > .modal-box { width: 100%; height: 100%; }
    DiffScreen #diff-summary-box { height: auto; max-height: 50%; margin: 0 0 1 0; }
    DiffScreen #diff-nodes { height: 1fr; }
    """

    def __init__(self, diff: SessionDiff) -> None:
        super().__init__()
        self.diff = diff
        self.entries = rolled_up(diff)

    def compose(self) -> ComposeResult:
        with Vertical(id="diff-box", classes=BOX_CLASS):
            with VerticalScroll(id="diff-summary-box"):  # a scrollbar when it is cut
                yield Static(summary_text(self.diff), id="diff-summary")
            yield DataTable(id="diff-nodes", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        box = self.query_one("#diff-box")
        box.border_title = f"Diff {self.diff.a_id[:10]} → {self.diff.b_id[:10]}"
        box.border_subtitle = "↑↓ scroll · tab summary · escape or q to close"
        table = self.query_one("#diff-nodes", DataTable)
        table.add_columns(*COLUMNS)
        for entry in self.entries:
            table.add_row(*entry_cells(entry), key=entry.path)
        if not self.entries:
            table.add_row(Text("no node differs", style="dim"), *[""] * (len(COLUMNS) - 1))
        table.focus()


def summary_text(diff: SessionDiff) -> Text:
    """The CLI's summary lines: the sessions in bold, the slower nodes in yellow."""
    text = Text()
    for index, line in enumerate(summary_lines(diff)):
        style = "bold" if index == 0 else "yellow" if line.startswith("  slower:") else ""
        text.append(("\n" if index else "") + line, style=style)
    return text


def entry_cells(entry: DiffEntry) -> tuple[Text, ...]:
    """A row: the node (a directory bold, a rolled-up one with its count), A → B, the deltas
    (blank where nothing changed), the flags."""
    node = Text("  " * entry.depth + entry.label, style="bold" if entry.depth == 0 else "")
    if entry.rolled_up:
        node.append(f"  all {entry.nodes}", style="bold cyan")
    change = Text(entry.change)
    outcome = entry.change.rsplit(" → ", 1)[-1]
    if entry.change and " → " in entry.change:
        change.stylize(OUTCOME_STYLES.get(outcome, ""), len(entry.change) - len(outcome))
    deltas = [Text(format_figure(name, entry.deltas[name], signed=True)
                   if entry.deltas.get(name) else "", justify="right") for name in DELTAS]
    flags = ", ".join(entry.flags) if entry.differs or not entry.change else "unchanged"
    return (node, change, *deltas, Text(flags, style="dim" if not entry.differs else ""))
