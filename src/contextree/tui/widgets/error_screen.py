"""The full error of a failed node and every attempt it made, over the session view.

Opened with `enter` or `e` on a failed row. The text wraps to the screen and scrolls; `y`
copies it (Textual's clipboard support: OSC 52, so it works over SSH too).

| Key | Action |
|---|---|
| `y` | copy the error and the attempts |
| `escape` / `q` | close |
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from contextree.progress.state import NodeState
from contextree.tui.format import NODE_LABELS, format_ms
from contextree.tui.widgets.box_screen import BOX_CLASS, BoxScreen


class ErrorScreen(BoxScreen):
    """Everything that went wrong with one node, readable in full."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "copy", "Copy"),
        Binding("escape,q", "close", "Close"),
    ]

    DEFAULT_CSS = """
    ErrorScreen > .modal-box { width: 90%; height: auto; max-height: 85%; border: round $error; }
    """

    def __init__(self, node: NodeState) -> None:
        super().__init__()
        self.node = node

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="error-box", classes=BOX_CLASS):
            yield Static(error_text(self.node), id="error-text")

    def on_mount(self) -> None:
        box = self.query_one("#error-box")
        box.border_title = f"Error — {self.node.path}"
        box.border_subtitle = "y copy · escape close"
        box.focus()

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(error_report(self.node))
        self.notify("error copied to the clipboard", timeout=3)


def attempt_lines(node: NodeState) -> list[str]:
    """One line per provider attempt: its latency and how it ended, with each backoff."""
    lines = []
    for index, latency in enumerate(node.attempt_ms):
        retry = node.retries[index] if index < len(node.retries) else None
        outcome = retry.error if retry is not None else (
            "ok" if node.error is None else node.error)
        lines.append(f"attempt {index + 1}: {format_ms(latency)} — {outcome}")
        if retry is not None:
            lines.append(f"  backoff {format_ms(retry.delay_ms)} before attempt {retry.attempt}")
    return lines


def error_report(node: NodeState) -> str:
    """The plain text `y` copies: path, status, error, kind and attempts."""
    kind = node.error_kind or ""
    if node.status_code:
        kind += f"{', ' if kind else ''}HTTP {node.status_code}"
    lines = [node.path, f"status: {NODE_LABELS.get(node.status, node.status)}",
             f"error: {node.error or '—'}"]
    if kind:
        lines.append(f"kind: {kind}")
    attempts = attempt_lines(node)
    if attempts:
        lines.append("attempts:")
        lines.extend(f"  {line}" for line in attempts)
    return "\n".join(lines)


def error_text(node: NodeState) -> Text:
    text = Text()
    text.append(node.path + "\n", style="bold")
    text.append("\nerror\n", style="dim")
    text.append((node.error or "—") + "\n", style="red")
    if node.error_kind or node.status_code:
        code = f", HTTP {node.status_code}" if node.status_code else ""
        text.append(f"kind: {node.error_kind or '—'}{code}\n", style="dim")
    attempts = attempt_lines(node)
    if attempts:
        text.append("\nattempts\n", style="dim")
        text.append("\n".join(attempts))
    return text
