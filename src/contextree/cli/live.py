"""The live progress view of a generate command in the terminal.

A daemon thread follows the running session in the store (the same events, the same reducer
as the TUI and `sessions replay`), at most ten reads a second, each reading only the events
committed since the last; the view is a `rich.live` panel repainted on that cadence. It shows
the level, a progress bar, counts, the requests in flight with their attempt and elapsed time,
the latest failures and the queue. It is off when stdout is not a terminal.
"""

from __future__ import annotations

import threading
import time
from types import TracebackType

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from contextree.progress import EventStore
from contextree.progress.catalog import EventType
from contextree.progress.event import parse_ts
from contextree.progress.follow import Follower
from contextree.progress.reducer import apply_events
from contextree.progress.state import FAILED, RETRYING, SENDING, WAITING, SessionState

POLL_INTERVAL_S = 0.1
ACTIVE_SHOWN = 8
FAILURES_SHOWN = 4
STATUS_LABELS = {SENDING: "sending", WAITING: "waiting", RETRYING: "retrying"}


class LiveProgress:
    """Follow `session_id` in `store` and paint it on `console` until the block ends."""

    def __init__(self, store: EventStore, session_id: str, console: Console, *,
                 enabled: bool = True) -> None:
        self.console = console
        self.enabled = enabled
        self.state = SessionState()
        self._follower = Follower(store, session_id)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._live: Live | None = None
        self._started = time.monotonic()

    def __enter__(self) -> LiveProgress:
        if self.enabled:
            self._live = Live(self.render(), console=self.console, auto_refresh=False,
                              transient=True)
            self._live.start()
            self._thread = threading.Thread(target=self._follow, name="ctree-live", daemon=True)
            self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._live is not None:
            self._live.stop()

    def _follow(self) -> None:
        assert self._live is not None
        while not self._stop.wait(POLL_INTERVAL_S):
            apply_events(self.state, self._follower.poll())
            self._live.update(self.render(), refresh=True)

    # -- rendering ------------------------------------------------------------------------

    def render(self) -> RenderableType:
        state = self.state
        elapsed = time.monotonic() - self._started
        parts: list[RenderableType] = [self._headline(state, elapsed)]
        total = state.total_nodes
        if total:
            bar = ProgressBar(total=total, completed=state.done_count, width=30)
            counts = Text.assemble(
                f" {state.done_count}/{total}  ",
                (f"✓ {state.completed_count}", "green"), "  ",
                (f"↷ {state.skipped_count}", "dim"), "  ",
                (f"✗ {state.failed_count}", "red" if state.failed_count else "dim"),
            )
            parts.append(_row(bar, counts))
        active = self._active_table(state)
        if active is not None:
            parts.append(active)
        failures = [node for node in state.nodes.values() if node.status == FAILED]
        for node in failures[-FAILURES_SHOWN:]:
            parts.append(Text(f"  ✗ {node.path}: {node.error}", style="red", overflow="ellipsis",
                              no_wrap=True))
        if state.queue:
            queue = state.queue
            parts.append(Text(
                f"  queue: {queue.get('pending', 0)} pending · {queue.get('in_flight', 0)} in "
                f"flight · {queue.get('retrying', 0)} retrying", style="dim"))
        return Group(*parts)

    def _headline(self, state: SessionState, elapsed: float) -> Text:
        if not state.event_types[EventType.PLAN_CONSTRUCTED]:
            phase = "scanning" if state.event_types[EventType.SCAN_STARTED] else "starting"
            return Text(f"{phase}… {state.scan.node_count} nodes  {elapsed:.1f}s", style="bold")
        level = "" if state.current_level is None else (
            f"level {state.current_level + 1} of {state.total_levels}  ")
        return Text(f"generating {state.plan.get('path', '.')} with "
                    f"{state.plan.get('agent_id')} via {state.plan.get('provider_name')}  "
                    f"{level}{elapsed:.1f}s", style="bold")

    def _active_table(self, state: SessionState) -> Table | None:
        active = [node for node in state.nodes.values() if node.status in STATUS_LABELS]
        if not active:
            return None
        table = Table.grid(padding=(0, 2))
        now = time.time()
        for node in active[:ACTIVE_SHOWN]:
            since = node.sent_ts or node.started_ts
            waited = f"{now - parse_ts(since):.1f}s" if since else ""
            attempt = f"attempt {node.attempt}" if node.attempt > 1 else ""
            table.add_row(f"  {STATUS_LABELS[node.status]}", Text(node.path, overflow="ellipsis",
                                                                  no_wrap=True), waited, attempt)
        if len(active) > ACTIVE_SHOWN:
            table.add_row("", Text(f"… and {len(active) - ACTIVE_SHOWN} more", style="dim"),
                          "", "")
        return table


def _row(*cells: RenderableType) -> Table:
    grid = Table.grid()
    grid.add_row(*cells)
    return grid
