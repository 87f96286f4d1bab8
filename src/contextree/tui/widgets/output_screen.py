"""The output of a command run from the command bar, over the current view.

It opens as soon as the child process starts ("running…") and shows what the command printed
(stdout, then stderr in red) when it ends; closing it early leaves the command running (its
outcome is then notified); `x` cancels it, as everywhere.

| Key | Action |
|---|---|
| `escape` / `q` | close |
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from contextree.tui.commands import CommandResult
from contextree.tui.widgets.box_screen import BOX_CLASS, BoxScreen


class OutputScreen(BoxScreen):
    """Captured output of `line`; `show_result` fills it in when the command ends."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Close"),
    ]

    DEFAULT_CSS = """
    OutputScreen > .modal-box { width: 90%; height: auto; max-height: 85%; }
    OutputScreen #output { width: auto; }
    """

    def __init__(self, *, line: str, result: CommandResult | None = None) -> None:
        super().__init__()
        self.line = line
        self.result = result
        self.closed = False

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="output-box", classes=BOX_CLASS):
            yield Static(Text("running…", style="dim"), id="output")

    def on_mount(self) -> None:
        box = self.query_one("#output-box")
        box.border_title = f"ctree {self.line}"
        box.border_subtitle = "x cancels · escape or q closes"
        if self.result is not None:
            self._paint(self.result)
        box.focus()

    def show_result(self, result: CommandResult) -> None:
        """Show what the command printed (queued: the screen may not be mounted yet)."""
        self.result = result
        self.call_later(self._paint, result)

    def _paint(self, result: CommandResult) -> None:
        text = Text(result.output.rstrip("\n"), no_wrap=True)
        errors = result.errors.rstrip("\n")
        if errors:
            text.append("\n" if text else "")
            text.append(errors, style="red")
        self.query_one("#output", Static).update(text or Text("(no output)", style="dim"))
        status = "exit 0" if result.ok else "cancelled" if result.exit_code == 130 \
            else f"exit {result.exit_code}"
        box = self.query_one("#output-box")
        box.border_title = f"ctree {self.line} — {status}"
        box.border_subtitle = "escape or q to close"

    def action_close(self) -> None:
        self.closed = True
        super().action_close()
