"""The top of the session view: which session, its status, and the progress of its plan.

A progress bar over the planned nodes, `level N of M`, completed / skipped / failed counts,
elapsed time, provider and model, queue and provider statistics — all from `SessionState`.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from contextree.progress.session import ACTIVE, CANCELLED
from contextree.progress.state import SessionState
from contextree.tui.format import (
    NODE_STYLES,
    SESSION_STYLES,
    format_count,
    format_ms,
    short_id,
    ts_epoch,
)


class ProgressHeader(Vertical):
    """Session title, progress bar and counts; `show(state, now_s)` repaints it.

    Every line is one row high and only repainted when its text changed, so a repaint never
    costs a layout pass of the screen.
    """

    DEFAULT_CSS = """
    ProgressHeader { height: auto; padding: 0 1; }
    ProgressHeader Static { height: 1; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: dict[str, Text] = {}
        self._last_shown: tuple[SessionState, float, str, Text | None] | None = None

    def compose(self) -> ComposeResult:
        for line in ("title", "progress", "counts", "provider", "scan-watch"):
            yield Static("", id=line)

    def show(self, state: SessionState, now_s: float, *, mode: str = "",
             metrics: Text | None = None) -> None:
        """Repaint from `state`; `mode` describes how it is shown (live, replay ×2, …);
        `metrics` is the scan / watch line shown when there is no room for their pane."""
        self._last_shown = (state, now_s, mode, metrics)
        planned = state.total_nodes or len(state.nodes)
        generating = bool(planned or state.levels)
        provider = provider_text(state)
        short = self.size.width < FULL_ID_FROM
        lines = {"title": title_text(state, mode, short=short), "provider": provider,
                 "scan-watch": metrics or Text()}
        self._display("scan-watch", bool(metrics and metrics.plain))
        if generating:
            lines["progress"] = progress_text(state, max(10, self.size.width - 2))
            lines["counts"] = counts_text(state, now_s)
        for name in ("progress", "counts"):
            self._display(name, generating)
        self._display("provider", bool(provider.plain))
        for name, text in lines.items():
            if self._shown.get(name) != text:
                self._shown[name] = text
                self.query_one(f"#{name}", Static).update(text, layout=False)

    def on_resize(self) -> None:
        """The bar and the title fit the width: draw them again for the new one (a finished
        session is not repainted by the view's timer)."""
        if self._last_shown is not None:
            state, now_s, mode, metrics = self._last_shown
            self.show(state, now_s, mode=mode, metrics=metrics)

    def _display(self, name: str, shown: bool) -> None:
        widget = self.query_one(f"#{name}")
        if widget.display != shown:
            widget.display = shown


BAR_WIDTH = 40
FULL_ID_FROM = 120
"""The title shows the whole session id from this width on, its short form below."""


def progress_text(state: SessionState, width: int) -> Text:
    """`━━━━━━╺━━━━  62%  level 3 of 5`: done over planned nodes, and the level."""
    planned = max(state.total_nodes or len(state.nodes), state.done_count, 1)
    fraction = state.done_count / planned
    bar_width = max(10, min(BAR_WIDTH, width // 3))
    filled = int(fraction * bar_width)
    ended_badly = state.status != ACTIVE and outcome_text(state) != "completed"
    style = "red" if state.failed_count or ended_badly else "green" if fraction >= 1 \
        else "blue"
    text = Text()
    text.append("━" * filled, style=style)
    text.append("━" * (bar_width - filled), style="bright_black")
    text.append(f" {int(fraction * 100):>3}%  ")
    text.append(level_text(state))
    outcome = outcome_text(state)
    if outcome:
        text.append(f" · {outcome}", style=SESSION_STYLES.get(state.status, ""))
    return text


def outcome_text(state: SessionState) -> str:
    """How an ended session ended, in words: `failed`, `cancelled`, `interrupted`, or
    `completed` (only when nothing failed); empty while it runs."""
    if state.status == ACTIVE:
        return ""
    if state.status == "failed" and state.error == CANCELLED:
        return CANCELLED
    if state.status == "completed" and (state.failed_count or
                                        state.generation_status == "failed"):
        return "failed"
    return state.status


def title_text(state: SessionState, mode: str, *, short: bool = False) -> Text:
    """Command, session id (its short form when `short`), status, mode and error."""
    text = Text()
    text.append(state.command or "session", style="bold")
    session_id = short_id(state.session_id) if short else state.session_id or "—"
    text.append(f"  {session_id}  ", style="dim")
    text.append(f"● {state.status}", style=SESSION_STYLES.get(state.status, ""))
    if state.generation_status and state.generation_status != "running":
        text.append(f" · generation {state.generation_status}", style="dim")
    if mode:
        text.append(f"  {mode}", style="italic")
    if state.error:
        text.append(f"  {state.error}", style="red")
    return text


def level_text(state: SessionState) -> str:
    if state.current_level is None:
        return f"{state.total_levels} levels planned" if state.total_levels else ""
    total = max(state.total_levels, len(state.levels))
    level = state.levels.get(state.current_level)
    suffix = ""
    if state.status == ACTIVE and level is not None and level.status != "running":
        suffix = f" ({level.status})"
    return f"level {state.current_level + 1} of {total}{suffix}"


def counts_text(state: SessionState, now_s: float) -> Text:
    text = Text()
    planned = max(state.total_nodes, state.done_count)
    text.append(f"{format_count(state.done_count)} / {format_count(planned)} nodes")
    for label, count, status in (("completed", state.completed_count, "completed"),
                                 ("skipped", state.skipped_count, "skipped"),
                                 ("failed", state.failed_count, "failed")):
        text.append(" · ")
        text.append(f"{format_count(count)} {label}",
                    style=NODE_STYLES[status] if count else "dim")
    text.append(f" · elapsed {format_ms(elapsed_ms(state, now_s))}")
    return text


def elapsed_ms(state: SessionState, now_s: float) -> int | None:
    if state.duration_ms is not None:
        return int(state.duration_ms)
    started = ts_epoch(state.started_ts)
    if started is None:
        return None
    until = now_s if state.status == ACTIVE else ts_epoch(state.last_ts) or now_s
    return max(0, int((until - started) * 1000))


def provider_text(state: SessionState) -> Text:
    text = Text()
    plan = state.plan
    if plan.get("provider_name"):
        text.append("provider ", style="dim")
        text.append(str(plan["provider_name"]))
        if plan.get("model"):
            text.append(f" / {plan['model']}")
        if plan.get("agent_id"):
            text.append(f" · agent {plan['agent_id']}", style="dim")
    queue = state.queue
    if queue:
        parts = [f"{queue[key]} {key.replace('_', ' ')}" for key in
                 ("pending", "in_flight", "retrying", "deduplicated") if queue.get(key)]
        text.append(("  · queue " if text.plain else "queue ") + (", ".join(parts) or "idle"),
                    style="dim")
    provider = state.provider
    if provider.responses:
        mean = provider.mean_latency_ms or 0
        text.append(f"  · latency mean {format_ms(int(mean))}, max "
                    f"{format_ms(provider.max_latency_ms)}", style="dim")
    if provider.retries or provider.failures:
        text.append(f"  · retries {provider.retries} · errors {provider.failures}",
                    style="dim")
    return text

