"""The status bar: the current view, the followed session, and the freshness meter.

Freshness is `time painted − event ts` over the last ~200 live events painted, as p50/p95.
"""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static


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

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f" {self.view} ", style="bold reverse")
        text.append("  ")
        text.append(self.session or "no session followed", style="" if self.session else "dim")
        text.append("  ·  freshness ", style="dim")
        if self.freshness is None:
            text.append("—", style="dim")
        else:
            p50, p95 = self.freshness
            style = "green" if p95 <= 100 else "yellow" if p95 <= 500 else "red"
            text.append(f"p50 {p50:.0f} ms  p95 {p95:.0f} ms", style=style)
        return text
