"""The status bar: the current view, operations running now, the followed session, freshness.

A marker shows how many operations run in any process (`● 2 running`) and the last one that
started or ended (`▶ scan started`, `✓ context.generate completed`, `✗ scan failed`). Freshness
is `time painted − event ts` over the last ~200 live events painted, as p50/p95; it is laid
out first, so a narrow terminal shortens the session's label, never the meter.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

MARKER_STYLES = {"started": "cyan", "completed": "green", "failed": "red",
                 "interrupted": "yellow"}
MARKER_ICONS = {"started": "▶", "completed": "✓", "failed": "✗", "interrupted": "!"}


class StatusBar(Static):
    """One line at the bottom; the app sets its reactives."""

    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; color: $text; padding: 0 1; }
    """

    view: reactive[str] = reactive("dashboard")
    """The name of the current view."""
    session: reactive[str] = reactive("")
    """The followed (or replayed) session, or empty."""
    freshness: reactive[tuple[float, float] | None] = reactive(None)
    """`(p50, p95)` of emit → painted in milliseconds, None before the first live event."""
    running: reactive[int] = reactive(0)
    """Operations running now, in any process."""
    replay: reactive[str] = reactive("")
    """Where the replay on screen is and the last event it applied, or empty."""
    last_change: reactive[tuple[str, str] | None] = reactive(None)
    """`(command, what)` of the last operation that started or ended; `what` is `started`
    or its final status."""

    def render(self) -> Text:
        width = max(0, self.size.width)
        left, right = self._left(with_change=True), self._freshness()
        if cell_len(left.plain) + cell_len(right.plain) + 2 > width:
            left = self._left(with_change=False)  # the meter matters more than the last change
        room = width - cell_len(left.plain) - cell_len(right.plain) - 4
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append_text(left)
        if room >= 8:
            label = Text(self.session or "no session followed",
                         style="" if self.session else "dim")
            label.truncate(room, overflow="ellipsis")
            text.append("  ")
            text.append_text(label)
            text.append(" " * max(0, room - cell_len(label.plain)))
        text.append("  ")
        text.append_text(right)
        return text

    def _left(self, *, with_change: bool) -> Text:
        text = Text()
        text.append(f" {self.view} ", style="bold reverse")
        if self.replay:
            text.append("  ")
            text.append(self.replay, style="bold magenta")
        if self.running:
            text.append("  ")
            text.append(f"● {self.running} running", style="bold cyan")
        if self.last_change is not None and with_change:
            command, what = self.last_change
            text.append("  ")
            text.append(f"{MARKER_ICONS.get(what, '·')} {command} {what}",
                        style=MARKER_STYLES.get(what, ""))
        return text

    def _freshness(self) -> Text:
        text = Text()
        text.append("freshness ", style="dim")
        if self.freshness is None:
            text.append("—", style="dim")
        else:
            p50, p95 = self.freshness
            style = "green" if p95 <= 100 else "yellow" if p95 <= 500 else "red"
            text.append(f"p50 {p50:.0f} ms  p95 {p95:.0f} ms", style=style)
        return text
