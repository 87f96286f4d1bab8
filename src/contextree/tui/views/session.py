"""The session view (key 2): one session's progress, activity per level and node detail.

A feed thread (`LiveFeed` or `ReplayFeed`) hands events over; `FeedReady` wakes the view,
which applies everything pending to its `SessionState` — the reducer replay and the CLI use —
and repaints, so a burst of thousands of events costs one repaint. One frame is in flight at a
time: the next paint waits until the last one is on screen (and starts at least
`FRAME_INTERVAL_S` after it), so a busy screen paints less often rather than falling behind.
Live events painted feed the freshness meter (`time painted − event ts`).

| Key | Action |
|---|---|
| `h` / `l` | previous / next level (stops at the first and the last) |
| `c` | follow the current level again (live) |
| `a` | every node of the session / back to one level |
| `s` | order by status (work in flight first), path, or duration |
| `/` | filter by path (`escape` clears it) |
| `f` | failures only / every node |
| `enter` / `e` | the full error and every attempt of a failed node |
| `y` | copy the selected node's error |
| `tab` | next panel |
| `space` | pause / resume a replay |
| `n` | replay one event |
| `+` / `-` | replay faster / slower |
"""

from __future__ import annotations

import time
from collections.abc import Callable
from itertools import islice
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, Static

from contextree.progress import Event, EventStore
from contextree.progress.diff import GENERATE_COMMAND
from contextree.progress.follow import DEFAULT_POLL_INTERVAL_S
from contextree.progress.reducer import apply_event, apply_record
from contextree.progress.session import ACTIVE
from contextree.progress.state import FAILED, LevelState, NodeState, SessionState
from contextree.tui.activity import RowChoice, arrange
from contextree.tui.feeds import Feed, FeedBatch, LiveFeed, ReplayFeed
from contextree.tui.format import short_id, ts_epoch
from contextree.tui.frames import load_frame_markdown
from contextree.tui.freshness import FRESHNESS_WINDOW, FreshnessMeter
from contextree.tui.messages import FeedReady
from contextree.tui.views import view_title
from contextree.tui.widgets.error_screen import ErrorScreen, error_report
from contextree.tui.widgets.filter_field import FilterField
from contextree.tui.widgets.metrics import MetricsPanel, metrics_line
from contextree.tui.widgets.node_detail import NodeDetail
from contextree.tui.widgets.node_list import NodeList
from contextree.tui.widgets.progress_header import ProgressHeader

FRAME_INTERVAL_S = 1 / 30
"""Paints start at least this far apart."""
FRAME_STALL_S = 0.5
"""A paint not on screen after this long no longer holds the next one back."""
GLANCE_INTERVAL_S = 0.25
"""While the list follows the work, the node detail and the freshness meter change at most
this often: they are read, not watched, and each change is a repaint of its own."""
TICK_INTERVAL_S = 0.2
METRICS_PANE_FROM = 140
"""Below this width the scan / watch metrics go into the header (one line, no pane)."""
SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 64.0, 256.0)


class SessionView(Vertical):
    """Follows or replays one session; see the module docstring for keys."""

    HELP_TITLE = view_title("session")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("h", "level(-1)", "Level ←"),
        Binding("l", "level(1)", "Level →"),
        Binding("c", "follow_level", "Follow"),
        Binding("a", "all_levels", "All"),
        Binding("s", "cycle_order", "Sort"),
        Binding("slash", "filter", "Filter"),
        Binding("f", "failures_only", "Failures"),
        Binding("enter,e", "open_error", "Error"),
        Binding("y", "copy_error", "Copy error", show=False),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("space", "toggle_pause", "Pause"),
        Binding("n", "step", "Step"),
        Binding("plus,equals_sign", "speed(1)", "Faster"),
        Binding("minus", "speed(-1)", "Slower"),
    ]

    class Changed(Message):
        """What the status bar shows changed: the session label or the freshness."""

        def __init__(self, label: str, freshness: tuple[float, float] | None) -> None:
            super().__init__()
            self.label = label
            self.freshness = freshness

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, SessionView.Changed)

    def __init__(self, *, store: EventStore, clock: Callable[[], float] = time.time,
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self.store = store
        self._clock = clock
        self.state: SessionState | None = None
        self.feed: Feed | None = None
        self.freshness = FreshnessMeter()
        self.selected_level: int | None = None
        self.finished = False
        self.all_levels = False
        """The list shows every node of the session instead of one level (`a`)."""
        self.choice = RowChoice()
        self._follow_level = True
        self._token = 0
        self._all_paths: list[str] = []
        self._shown_key: tuple[object, ...] | None = None
        self._last_paint = 0.0
        self._last_glance = 0.0
        self._last_detail = 0.0
        self._posted_label: str | None = None
        self._changed_held = False
        self._detail_held = False
        self._paint_timer: Timer | None = None
        self._paint_wanted = False
        self._frame_on_screen = True
        self._followed_live = False
        self._has_levels = False
        self._header_metrics: Text | None = None
        self._on_failure = False

    def compose(self) -> ComposeResult:
        yield Static("No session followed — press 4 for the history, 1 for the dashboard.",
                     id="no-session")
        yield ProgressHeader(id="header")
        with Horizontal(id="panes"):
            with VerticalScroll(id="metrics-pane"):
                yield MetricsPanel(id="metrics")
            with Vertical(id="activity-pane"):
                yield FilterField(placeholder="filter by path — escape clears", id="filter")
                yield NodeList(clock=self.now, id="nodes")
            yield NodeDetail(load_content=self._load_content, clock=self.now, id="detail")

    def on_mount(self) -> None:
        self.query_one("#activity-pane").border_title = "Activity"
        self.query_one("#detail").border_title = "Node"
        self.query_one("#metrics-pane").border_title = "Metrics"
        self.set_interval(TICK_INTERVAL_S, self._tick)
        self._show_empty(True)

    def on_unmount(self) -> None:
        self.stop_feed()

    # -- public API -----------------------------------------------------------------------

    @property
    def session_id(self) -> str | None:
        return self.feed.session_id if self.feed is not None else None

    @property
    def replay_feed(self) -> ReplayFeed | None:
        return self.feed if isinstance(self.feed, ReplayFeed) else None

    def follow(self, session_id: str, *,
               poll_interval: float = DEFAULT_POLL_INTERVAL_S) -> None:
        """Show `session_id` live: its stored events, then new ones as they are committed."""
        token = self._reset()
        self._start(LiveFeed(self.store, session_id, wake=self._waker(token),
                             poll_interval=poll_interval))

    def replay(self, session_id: str, *, speed: float = 1.0, paused: bool = False) -> None:
        """Re-feed `session_id` at `speed` × its original pace."""
        token = self._reset()
        self._start(ReplayFeed(self.store, session_id, wake=self._waker(token), speed=speed,
                               paused=paused))

    def stop_feed(self) -> None:
        if self.feed is not None:
            self.feed.stop()

    def now(self) -> float:
        """The clock live timers use: wall time live, the replayed time in a replay."""
        replay_feed = self.replay_feed
        if replay_feed is not None:
            return replay_feed.now()
        state = self.state
        if state is not None and state.status != ACTIVE:
            return ts_epoch(state.last_ts) or self._clock()
        return self._clock()

    def label(self) -> str:
        state = self.state
        if state is None or self.feed is None:
            return ""
        parts = [short_id(state.session_id or self.feed.session_id), state.command or "",
                 state.status, self.mode_text()]
        return "  ".join(part for part in parts if part)

    def mode_text(self) -> str:
        replay_feed = self.replay_feed
        if replay_feed is not None:
            paused = " paused" if replay_feed.paused else ""
            done = " done" if self.finished else ""
            return (f"replay ×{replay_feed.speed:g}{paused}{done} "
                    f"{replay_feed.position:,}/{replay_feed.total:,} events")
        if self.feed is None:
            return ""
        if not self.finished:
            return "live"
        return "ended while followed" if self._followed_live else "stored"

    # -- feed hand-off and painting -------------------------------------------------------

    def _waker(self, token: int) -> Callable[[], object]:
        return lambda: self.post_message(FeedReady(token))

    def _reset(self) -> int:
        self.stop_feed()
        self._token += 1
        self.state = None
        self.finished = False
        self.freshness.clear()
        self._frame_on_screen = True
        self._all_paths = []
        self._shown_key = None
        self.selected_level = None
        self.all_levels = False
        self._follow_level = True
        return self._token

    def _start(self, feed: Feed) -> None:
        self.feed = feed
        feed.start()
        self.post_message(self.Changed(self.label() or f"{short_id(feed.session_id)} loading…",
                                       None))

    def on_feed_ready(self, message: FeedReady) -> None:
        if message.token == self._token:
            self._paint_wanted = True
            self._schedule_paint()

    def _schedule_paint(self) -> None:
        """Paint what the feed handed over: now, after `FRAME_INTERVAL_S`, or once the frame
        in flight is on screen (`_painted` calls back)."""
        if not self._paint_wanted or self._paint_timer is not None:
            return
        now = time.monotonic()
        if not self._frame_on_screen and now - self._last_paint < FRAME_STALL_S:
            return
        delay = self._last_paint + FRAME_INTERVAL_S - now
        if delay <= 0:
            self._paint()
        else:
            self._paint_timer = self.set_timer(delay, self._paint)

    def _paint(self) -> None:
        self._paint_timer = None
        self._paint_wanted = False
        self._last_paint = time.monotonic()
        if self.feed is None:
            return
        batch = self.feed.take()
        if batch.error:
            self.notify(batch.error, title="session", severity="error")
        if batch.state is not None:
            self._all_paths, self._shown_key = [], None
            self.state, self.finished = batch.state, False  # a replay may restart
            self._followed_live = batch.state.status == ACTIVE
            self.query_one(NodeList).follow_activity = self._followed_live
            self.refresh_bindings()
        if self.state is None:
            return
        self.apply_batch(batch)

    def apply_batch(self, batch: FeedBatch) -> None:
        """Fold the batch's events into the state and paint the result once (a subclass may
        paint differently, e.g. a benchmark's per-event baseline)."""
        assert self.state is not None
        for event in batch.events:
            apply_event(self.state, event)
        self.finish_batch(batch, batch.events[-FRESHNESS_WINDOW:] if batch.live else [])

    def finish_batch(self, batch: FeedBatch, painted: list[Event]) -> None:
        """Take the stored record, note the end, repaint, and measure what was painted."""
        assert self.state is not None
        if batch.record is not None:
            apply_record(self.state, batch.record)
        ended = batch.finished and not self.finished
        if ended:
            self.finished = True
            self.refresh_bindings()  # e.g. "follow the running level" is over
        if bool(self.state.levels) != self._has_levels:
            self._has_levels = not self._has_levels
            self.refresh_bindings()  # h/l appear in the footer with the first level
        if ended and self.state.failed_count:
            self._land_on_first_failure()
        self._repaint()
        emitted = [epoch for epoch in (ts_epoch(event.ts) for event in painted) if epoch]
        self._frame_on_screen = False
        self.call_after_refresh(self._painted, emitted)

    def _painted(self, emitted: list[float]) -> None:
        self._frame_on_screen = True
        self._schedule_paint()
        if emitted:
            self.freshness.add(time.time(), emitted)
        self._post_changed()

    def _post_changed(self, *, force: bool = False) -> None:
        """Tell the status bar: at once when the label changed, the freshness meter at most
        every `GLANCE_INTERVAL_S` (the tick sends what was held back)."""
        label = self.label()
        now = time.monotonic()
        if force or label != self._posted_label or now - self._last_glance >= GLANCE_INTERVAL_S:
            self._posted_label, self._last_glance, self._changed_held = label, now, False
            self.post_message(self.Changed(label, self.freshness.percentiles()))
        else:
            self._changed_held = True

    def _tick(self) -> None:
        self._schedule_paint()  # a frame that never reached the screen holds nothing back
        if self._changed_held:
            self._post_changed(force=True)
        state = self.state
        replay_feed = self.replay_feed
        playing = replay_feed is not None and not replay_feed.paused and not self.finished
        painted_since = time.monotonic() - self._last_paint < TICK_INTERVAL_S
        if state is not None and (state.status == ACTIVE or playing) and not painted_since:
            self._show_header(state)  # the live timers, when no event repainted them
            self.query_one(NodeList).repaint_changed()
            self._show_selected(force=True)
        elif self._detail_held:
            self._show_selected(force=True)

    def _repaint(self) -> None:
        state = self.state
        appeared = self._show_empty(state is None)
        if state is None:
            return
        has_nodes = bool(state.nodes or state.levels or state.total_nodes)
        pane_fits = self.size.width >= METRICS_PANE_FROM or not has_nodes
        self._header_metrics = None if pane_fits else metrics_line(state)
        self._show_header(state)
        has_metrics = pane_fits and self.query_one(MetricsPanel).show(state, compact=has_nodes)
        metrics_pane = self.query_one("#metrics-pane")
        _set_display(metrics_pane, has_metrics)
        metrics_pane.set_class(not has_nodes, "-wide")
        appeared |= _set_display(self.query_one("#activity-pane"), has_nodes or not has_metrics)
        _set_display(self.query_one(NodeDetail), has_nodes or not has_metrics)
        if appeared:
            self._refocus()
        if self._follow_level and state.current_level is not None:
            self.selected_level = state.current_level
        elif self.selected_level is None and state.levels:
            self.selected_level = min(state.levels)
        self._show_rows(state)

    def _show_header(self, state: SessionState) -> None:
        self.query_one(ProgressHeader).show(state, self.now(), mode=self.mode_text(),
                                            metrics=self._header_metrics)

    def on_resize(self) -> None:
        self._repaint()  # the metrics pane or the header line, whichever fits

    def _show_rows(self, state: SessionState) -> None:
        """Arrange the selected level's rows (in flight first, filtered) and show them; the
        cursor stays on its node unless the level or the way of showing it changed."""
        paths = self._level_paths(state)
        key = (self.selected_level, self.all_levels, self.choice)
        rows = arrange(paths, state.nodes, self.choice, self.now())
        node_list = self.query_one(NodeList)
        if rows != node_list.paths or key != self._shown_key:
            node_list.show(rows, state.nodes, keep=key[:2] == (self._shown_key or ())[:2])
            self._shown_key = key
        else:
            node_list.rows_changed()
        pane = self.query_one("#activity-pane")
        title = self._activity_title(state, len(paths), len(rows))
        if pane.border_title != title:
            pane.border_title = title
        self._show_selected()

    def _level_paths(self, state: SessionState) -> list[str]:
        level = self._level(state)
        if level is not None:
            return level.paths
        if len(self._all_paths) < len(state.nodes):
            self._all_paths.extend(islice(state.nodes, len(self._all_paths), None))
        return self._all_paths

    def _level(self, state: SessionState) -> LevelState | None:
        if self.all_levels or self.selected_level is None:
            return None
        return state.levels.get(self.selected_level)

    def _activity_title(self, state: SessionState, listed: int, shown: int) -> str:
        """`Level 2 of 4 · 12 nodes · running · following`, then how the rows are chosen
        when that is not the default (most important first: a narrow pane cuts the end)."""
        level = self._level(state)
        count = f"{listed:,}" if shown == listed else f"{shown:,} of {listed:,}"
        parts = [f"{count} {_nodes(listed)}"]
        if level is None:
            parts.insert(0, "All levels")
        else:
            total = max(state.total_levels, len(state.levels))
            parts.insert(0, f"Level {level.index + 1} of {total}")
            parts.append(level.status)
        if self._follow_level and state.status == ACTIVE and level is not None:
            parts.append("following")
        if self.choice != RowChoice():
            parts.append(self.choice.describe())
        return " · ".join(parts)

    def _land_on_first_failure(self) -> None:
        """A session that ended with failures opens on its first failed node, detail shown."""
        state = self.state
        assert state is not None
        for index in sorted(state.levels):
            for path in state.levels[index].paths:
                if state.nodes[path].status == FAILED:
                    self._select(level=index, path=path)
                    return
        for path, node in state.nodes.items():
            if node.status == FAILED:
                self._select(level=None, path=path)
                return

    def _select(self, *, level: int | None, path: str) -> None:
        self.selected_level = level
        self.all_levels = level is None
        self._follow_level = False
        self.choice = RowChoice(self.choice.order)
        node_list = self.query_one(NodeList)
        node_list.follow_activity = False
        self._repaint()
        node_list.move_to(path)

    def _show_empty(self, empty: bool) -> bool:
        _set_display(self.query_one("#no-session"), empty)
        _set_display(self.query_one(ProgressHeader), not empty)
        return _set_display(self.query_one("#panes"), not empty)

    def _refocus(self) -> None:
        """Focus the activity list again if the focus was lost while it was hidden (a
        session starts with no nodes: a scan's metrics come first)."""
        focused = self.app.focused
        if self.display and (focused is None or not focused.is_on_screen):
            self.query_one(NodeList).focus()

    def _load_content(self, node_id: str | None, frame_id: str | None) -> str | None:
        return load_frame_markdown(self.store, node_id, frame_id)

    # -- messages and actions -------------------------------------------------------------

    def on_node_list_highlighted(self, message: NodeList.Highlighted) -> None:
        self._show_selected()

    def _show_selected(self, *, force: bool = False) -> None:
        """Show the highlighted node in the detail, and the keys that apply to it. While the
        list follows the work (the cursor moves by itself, many times a second) at most
        every `GLANCE_INTERVAL_S`; at once when the user moved the cursor."""
        node_list = self.query_one(NodeList)
        now = time.monotonic()
        if not force and node_list.follow_activity \
                and now - self._last_detail < GLANCE_INTERVAL_S:
            self._detail_held = True
            return
        self._last_detail, self._detail_held = now, False
        failure = self._selected_failure() is not None
        if failure != self._on_failure:  # `enter` / `e` / `y` apply to a failed node only
            self._on_failure = failure
            self.refresh_bindings()  # (not on every move: the footer is rebuilt each time)
        if self.state is not None:
            path = node_list.highlighted_path
            self.query_one(NodeDetail).show(self.state.nodes.get(path) if path else None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("toggle_pause", "step", "speed"):
            return self.replay_feed is not None
        # Keys shown off (None) where they may turn on soon: the footer turns a key on in
        # place, but a key appearing rebuilds it (a long frame while a session streams).
        state = self.state
        if action in ("level", "all_levels"):
            if state is None:  # loading
                return None if self.feed is not None else False
            if state.levels:
                return True
            return None if self._may_gain_levels(state) else False
        if action == "follow_level":
            if state is None or state.status != ACTIVE:
                return False
            if state.current_level is not None:
                return True
            return None if self._may_gain_levels(state) else False
        if action in ("open_error", "copy_error"):
            return self._selected_failure() is not None
        if action == "clear_filter":
            return bool(self.choice.query) or self.query_one("#filter", FilterField).in_use
        return True

    @staticmethod
    def _may_gain_levels(state: SessionState) -> bool:
        """A generate session still running: its levels may be yet to come."""
        return state.status == ACTIVE and state.command == GENERATE_COMMAND

    def _selected_failure(self) -> NodeState | None:
        if self.state is None:
            return None
        path = self.query_one(NodeList).highlighted_path
        node = self.state.nodes.get(path) if path else None
        return node if node is not None and (node.error or node.status == FAILED) else None

    def action_level(self, delta: int) -> None:
        """One level down or up, stopping at the first and the last."""
        state = self.state
        if state is None or not state.levels:
            return
        choices = sorted(state.levels)
        current = self.selected_level if self.selected_level in choices else choices[0]
        index = choices.index(current) + (0 if self.all_levels else delta)
        self.all_levels = False
        self.selected_level = choices[max(0, min(len(choices) - 1, index))]
        self._follow_level = self.selected_level == state.current_level \
            and state.status == ACTIVE
        self.query_one(NodeList).follow_activity = self._follow_level
        self._repaint()

    def action_follow_level(self) -> None:
        """Back to the level that is running, the cursor on the work in flight."""
        self.all_levels = False
        self._follow_level = True
        self.query_one(NodeList).follow_activity = True
        self._repaint()

    def action_all_levels(self) -> None:
        self.all_levels = not self.all_levels
        self._follow_level = False
        self.query_one(NodeList).follow_activity = False
        self._repaint()

    def action_cycle_order(self) -> None:
        self._rearrange(self.choice.next_order())
        self.notify(f"activity ordered by {self.choice.order}", timeout=2)

    def action_failures_only(self) -> None:
        choice = self.choice
        self._rearrange(RowChoice(choice.order, choice.query, not choice.failures_only))

    def action_filter(self) -> None:
        self.query_one("#filter", FilterField).open()

    def action_clear_filter(self) -> None:
        self.query_one("#filter", FilterField).clear()
        self._rearrange(RowChoice(self.choice.order, "", self.choice.failures_only))
        self.query_one(NodeList).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            event.stop()
            self._rearrange(RowChoice(self.choice.order, event.value.strip(),
                                      self.choice.failures_only))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            event.stop()
            self.query_one(NodeList).focus()

    def _rearrange(self, choice: RowChoice) -> None:
        self.choice = choice
        self._repaint()

    def action_open_error(self) -> None:
        node = self._selected_failure()
        if node is not None:
            self.app.push_screen(ErrorScreen(node))

    def action_copy_error(self) -> None:
        node = self._selected_failure()
        if node is not None:
            self.app.copy_to_clipboard(error_report(node))
            self.notify(f"copied the error of {node.path}", timeout=3)

    def action_toggle_pause(self) -> None:
        if self.replay_feed is not None:
            self.replay_feed.toggle_pause()
            self._refresh_mode()

    def action_step(self) -> None:
        if self.replay_feed is not None:
            self.replay_feed.step()
            self._refresh_mode()

    def action_speed(self, direction: int) -> None:
        replay_feed = self.replay_feed
        if replay_feed is None:
            return
        faster = [s for s in SPEEDS if s > replay_feed.speed]
        slower = [s for s in SPEEDS if s < replay_feed.speed]
        if direction > 0 and faster:
            replay_feed.set_speed(faster[0])
        elif direction < 0 and slower:
            replay_feed.set_speed(slower[-1])
        self._refresh_mode()

    def _refresh_mode(self) -> None:
        if self.state is not None:
            self._show_header(self.state)
        self._post_changed(force=True)


def _set_display(widget: Widget, shown: bool) -> bool:
    """Show or hide `widget`, touching it (and the layout) only when that changes; True when
    it was hidden and is now shown."""
    if widget.display == shown:
        return False
    widget.display = shown
    return shown


def _nodes(count: int) -> str:
    return "node" if count == 1 else "nodes"
