"""The activity list: one line per node, virtualised with the Line API.

Only the visible lines are rendered, each straight from the state model, so a level of
10,000 nodes scrolls as fast as one of ten, and a repaint after a burst of events costs the
same as after one. The list holds references to the state's path list and node map; the
owner calls `rows_changed()` after applying events.

| Key | Action |
|---|---|
| `up` / `down` | previous / next node |
| `pageup` / `pagedown` | a page up / down |
| `home` / `end` | first / last node |
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from itertools import islice
from typing import ClassVar, NamedTuple

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from contextree.progress.state import FAILED, RETRYING, SENDING, WAITING, NodeState
from contextree.tui.format import NODE_ICONS, NODE_LABELS, NODE_STYLES, node_summary

ICON_WIDTH = 3
MIN_PATH_WIDTH = 12
TIGHT_PATH_WIDTH = 8
"""The path gives up cells down to this width rather than cut a timer or a duration."""
MIN_ERROR_WIDTH = 10
MAX_PROVIDER_WIDTH = 28
MAX_ERROR_WIDTH = 36
"""An error summary widens its column at most this far (enter opens the whole error)."""
WIDE_FROM = 76
"""The provider / model column shows from this width on (when the path keeps its room)."""
_STYLES = {status: Style.parse(style) for status, style in NODE_STYLES.items()}
_PLAIN, _DIM = Style(), Style(dim=True)
_SHORT_LABELS = {**NODE_LABELS, "waiting": "waiting"}
IN_FLIGHT = frozenset({SENDING, WAITING, RETRYING})


class Columns(NamedTuple):
    """Cell widths of a row's columns (0: the column is not shown)."""

    path: int
    status: int
    provider: int
    summary: int


def fit(text: str, width: int, *, keep_end: bool = False) -> str:
    """`text` cut or padded to exactly `width` cells, with `…` where it was cut."""
    if width <= 0:
        return ""
    if len(text) <= width:
        return text.ljust(width)
    if keep_end:
        return "…" + text[len(text) - width + 1:]
    return text[: width - 1] + "…"


class NodeList(ScrollView, can_focus=True):
    """A cursor over the nodes of one level; posts `Highlighted` when the cursor's node changes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
    ]

    DEFAULT_CSS = """
    NodeList { height: 1fr; }
    NodeList > .node-list--cursor { background: $accent 30%; }
    NodeList:focus > .node-list--cursor { background: $accent 60%; }
    NodeList > .node-list--empty { color: $text-muted; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {"node-list--cursor", "node-list--empty"}

    cursor: reactive[int] = reactive(0, always_update=True, repaint=False)
    """Index of the highlighted row."""

    class Highlighted(Message):
        """The node under the cursor changed (None: the list is empty)."""

        def __init__(self, node_list: NodeList, path: str | None) -> None:
            super().__init__()
            self.node_list = node_list
            self.path = path

        @property
        def control(self) -> NodeList:
            return self.node_list

    def __init__(self, *, clock: Callable[[], float], empty_text: str = "no nodes yet",
                 name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._clock = clock
        self.empty_text = empty_text
        self._paths: Sequence[str] = ()
        self._node_states: Mapping[str, NodeState] = {}
        self._highlighted: str | None = None
        self._frontier = 0
        self.follow_activity = False
        """Keep the cursor on the first node in flight (until the user moves it)."""
        self._base_style = Style()
        self._cursor_style = Style()
        self._columns = Columns(1, 0, 0, 0)
        self._frame_top = self._frame_width = self._frame_cursor = 0
        self._frame_cells: dict[str, tuple[str, str, str]] = {}
        """The cells of the rows on screen, computed once per frame by `_fit_columns`."""
        self._fitted: tuple[int, int, int] | None = None
        """The (top, height, width) `repaint_changed` just fitted the columns for: the frame
        it asked for draws with those cells instead of computing them again."""
        self._drawn: dict[int, tuple[object, ...]] = {}
        """What each line on screen was drawn from (`_line_key`), by its y."""

    # -- public API -----------------------------------------------------------------------

    def show(self, paths: Sequence[str], nodes: Mapping[str, NodeState], *,
             keep: bool = False) -> None:
        """Show `paths` (a list the owner may append to) looked up in `nodes`.

        `keep` keeps the cursor on the node it was on (the rows were re-ordered or
        filtered); otherwise the cursor goes to the first row.
        """
        previous = self.highlighted_path if keep else None
        self._paths = paths
        self._node_states = nodes
        cursor = 0
        if previous is not None:
            try:
                cursor = paths.index(previous)
            except ValueError:
                cursor = min(self.cursor, len(paths) - 1)
        else:
            self._highlighted = None
        self._frontier = 0
        self.set_reactive(NodeList.cursor, max(0, cursor))
        self._resize_to_rows()  # before scrolling: a scroll is clamped to the rows known
        if keep:  # following the work, `rows_changed` puts the cursor on it and scrolls once
            if not self.follow_activity:
                self._scroll_cursor_into_view()
        elif self.size.height:
            self.scroll_to(y=max(0, self.cursor - self.size.height // 2), animate=False,
                           immediate=True)
        self.rows_changed()

    def rows_changed(self) -> None:
        """The rows (or the nodes they show) changed: resize and repaint the visible lines."""
        self._resize_to_rows()
        if self.follow_activity:
            self._follow()
        self.repaint_changed()
        self._post_highlight()

    def repaint_changed(self) -> None:
        """Repaint the lines on screen whose content changed since they were drawn (all of
        them when the columns moved): following a session changes a few rows per frame,
        and a line costs the same to draw whether it changed or not."""
        height = self.size.height
        top = int(self.scroll_offset.y)
        self._fitted = None
        if not height:
            self.refresh()
            return
        columns = self._fit_columns(top, height)
        self._fitted = (top, height, self.scrollable_content_region.width)
        if columns != self._columns:
            self._columns = columns
            self.refresh()
            return
        drawn, cursor = self._drawn, self.cursor
        for y in range(height):
            if drawn.get(y) != self._line_key(top + y, cursor):
                self.refresh_line(top + y)

    @property
    def allow_vertical_scroll(self) -> bool:
        """The list scrolls whenever its rows do not fit. Textual's default asks whether the
        scrollbar is shown, which is only decided at the next layout pass: a jump made
        between new rows arriving and that pass (`end` on a list that just grew to 10,000
        rows) would be dropped, leaving the cursor on the last row and the view on the top."""
        return self.max_scroll_y > 0

    def watch_show_vertical_scrollbar(self, shown: bool) -> None:
        if shown:  # the list may have scrolled before its scrollbar appeared
            self.vertical_scrollbar.position = self.scroll_y

    def _resize_to_rows(self) -> None:
        """Make the scrollable height the row count. A list that scrolled and still scrolls
        (a level filling up while it is followed) only tells its scrollbar: setting the
        virtual size asks for a layout pass of the whole screen, a frame twice as long."""
        height = len(self._paths)
        if self.virtual_size.height == height:
            return
        window = self.scrollable_content_region.height
        if self.show_vertical_scrollbar and window and min(height, self.virtual_size.height) \
                > window:
            self.set_reactive(NodeList.virtual_size, Size(0, height))
            self.vertical_scrollbar.window_virtual_size = height
        else:
            self.virtual_size = Size(0, height)

    def _follow(self) -> None:
        """Put the cursor on the first node in flight (the frontier only moves forward, so
        the search starts where it last stopped)."""
        paths, nodes = self._paths, self._node_states
        start = min(self._frontier, len(paths))
        for index in (*range(start, len(paths)), *range(0, start)):
            node = nodes.get(paths[index])
            if node is not None and node.status in IN_FLIGHT:
                self._frontier = index
                self._put_cursor(index)
                return

    def _put_cursor(self, index: int) -> None:
        if self.cursor != index:
            self.set_reactive(NodeList.cursor, index)
            self._scroll_cursor_into_view(centre=True)
        if index == 0 and self.scroll_offset.y:
            self.scroll_to(y=0, animate=False, immediate=True)

    def move_to(self, path: str) -> bool:
        """Put the cursor on `path` (the user's choice: stop following); False if not shown."""
        try:
            index = list(self._paths).index(path)
        except ValueError:
            return False
        self.follow_activity = False
        self.cursor = index
        self._scroll_cursor_into_view(centre=True)
        return True

    @property
    def row_count(self) -> int:
        return len(self._paths)

    @property
    def paths(self) -> Sequence[str]:
        return self._paths

    def line_text(self, index: int) -> str:
        """The plain text of row `index`, as the list shows it."""
        path = self._paths[index]
        columns = self._fit_columns(int(self.scroll_offset.y), self.size.height)
        segments = self._row(path, self._node_states.get(path), columns, Style())
        return "".join(segment.text for segment in segments)

    @property
    def highlighted_path(self) -> str | None:
        paths = self._paths
        return paths[self.cursor] if 0 <= self.cursor < len(paths) else None

    # -- reactives and actions ------------------------------------------------------------

    def validate_cursor(self, value: int) -> int:
        return max(0, min(value, len(self._paths) - 1))

    def watch_cursor(self, old: int, new: int) -> None:
        self._scroll_cursor_into_view()
        self.refresh()
        self._post_highlight()

    def action_cursor(self, delta: int) -> None:
        self.follow_activity = False
        self.cursor += delta

    def action_page(self, direction: int) -> None:
        self.follow_activity = False
        self.cursor += direction * max(1, self.size.height - 1)

    def action_jump(self, index: int) -> None:
        self.follow_activity = False
        self.cursor = index if index >= 0 else len(self._paths) - 1

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is not None:
            self.follow_activity = False
            self.cursor = int(self.scroll_offset.y) + offset.y

    # -- rendering ------------------------------------------------------------------------

    def render_lines(self, crop: Region) -> list[Strip]:
        # once per frame, not once per line (each is a style or reactive lookup)
        self._base_style = self.rich_style
        self._cursor_style = self.get_component_rich_style("node-list--cursor")
        self._frame_top, self._frame_width = int(self.scroll_offset.y), self.size.width
        self._frame_cursor = self.cursor
        frame = (self._frame_top, self.size.height, self.scrollable_content_region.width)
        if frame != self._fitted:
            self._columns = self._fit_columns(self._frame_top, self.size.height)
        self._fitted = None
        return super().render_lines(crop)

    def _line_key(self, index: int, cursor: int) -> tuple[object, ...]:
        """Everything line `index` is drawn from (after `_fit_columns` of its frame)."""
        paths = self._paths
        if index >= len(paths):
            return (index, not paths)
        path = paths[index]
        node = self._node_states.get(path)
        return (index, path, node.status if node is not None else None,
                self._frame_cells.get(path), index == cursor)

    def render_line(self, y: int) -> Strip:
        width = self._frame_width
        base = self._base_style
        index = self._frame_top + y
        self._drawn[y] = self._line_key(index, self._frame_cursor)
        paths = self._paths
        if not paths:
            if y == 0:
                style = base + self.get_component_rich_style("node-list--empty")
                return Strip([Segment(fit(f" {self.empty_text}", width), style)], width)
            return Strip.blank(width, base)
        if index >= len(paths):
            return Strip.blank(width, base)
        path = paths[index]
        node = self._node_states.get(path)
        segments = self._row(path, node, self._columns, base)
        if index == self._frame_cursor:
            cursor = self._cursor_style
            segments = [Segment(text, (style or base) + cursor) for text, style, _ in segments]
        return Strip(segments, width)

    def _cells(self, node: NodeState | None) -> tuple[str, str, str]:
        """The status label, provider and summary of a row, before fitting."""
        if node is None:
            return NODE_LABELS["pending"], "", ""
        provider = ""
        if node.provider_name:
            provider = node.provider_name + (f"/{node.model}" if node.model else "")
        label = _SHORT_LABELS.get(node.status, node.status)
        return label, provider, node_summary(node, self._clock())

    def _fit_columns(self, top: int, height: int) -> Columns:
        """Column widths that fit the rows on screen: the path takes what is left; timers
        and durations are never cut while the path has room to give (down to
        `TIGHT_PATH_WIDTH`), error summaries take at most half of what is left (enter shows
        the whole error)."""
        width = self.scrollable_content_region.width
        status_width = provider_width = number_width = error_width = 0
        cells = self._frame_cells
        cells.clear()
        for path in islice(self._paths, top, top + max(1, height)):
            node = self._node_states.get(path)
            cells[path] = label, provider, summary = self._cells(node)
            status_width = max(status_width, len(label))
            provider_width = max(provider_width, len(provider))
            if node is not None and node.status == FAILED:
                error_width = max(error_width, len(summary))
            else:
                number_width = max(number_width, len(summary))
        room = width - ICON_WIDTH - MIN_PATH_WIDTH - status_width - 2
        error_width = min(error_width, MAX_ERROR_WIDTH, max(MIN_ERROR_WIDTH, room // 2))
        number_room = room + MIN_PATH_WIDTH - TIGHT_PATH_WIDTH
        summary_width = max(0, min(error_width, room), min(number_width, number_room))
        room -= summary_width + 1
        provider_width = min(provider_width, MAX_PROVIDER_WIDTH)
        if width < WIDE_FROM or provider_width + 1 > room:
            provider_width = 0
        path_width = max(1, width - ICON_WIDTH - status_width - summary_width - 2
                         - (provider_width + 1 if provider_width else 0))
        return Columns(path_width, status_width, provider_width, summary_width)

    def _row(self, path: str, node: NodeState | None, columns: Columns,
             base: Style) -> list[Segment]:
        status = node.status if node is not None else "pending"
        style = base + _STYLES.get(status, _PLAIN)
        label, provider, summary = self._frame_cells.get(path) or self._cells(node)
        segments = [
            Segment(f" {NODE_ICONS.get(status, '?')} ", style),
            Segment(fit(path, columns.path, keep_end=True) + " ", base),
            Segment(fit(label, columns.status) + " ", style),
        ]
        if columns.provider:
            segments.append(Segment(fit(provider, columns.provider) + " ",
                                    base + _DIM))
        summary_style = style if status == "failed" else base
        segments.append(Segment(fit(summary, columns.summary), summary_style))
        return segments

    # -- helpers --------------------------------------------------------------------------

    def on_resize(self) -> None:
        self._scroll_cursor_into_view(centre=True)  # a move made before the first layout

    def _scroll_cursor_into_view(self, *, centre: bool = False) -> None:
        """Scroll as little as brings the cursor's row on screen (`centre`: a third down).
        Not before the list has a height: the first resize does it then, whatever the
        order of the cursor's moves and the layout pass."""
        height = self.size.height
        if not height:
            return
        top = int(self.scroll_offset.y)
        if centre and not top <= self.cursor < top + height:
            self.scroll_to(y=max(0, self.cursor - height // 3), animate=False, immediate=True)
        elif self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)

    def _post_highlight(self) -> None:
        path = self.highlighted_path
        if path != self._highlighted:
            self._highlighted = path
            self.post_message(self.Highlighted(self, path))
