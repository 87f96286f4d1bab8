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
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from contextree.progress.state import RETRYING, SENDING, WAITING, NodeState
from contextree.tui.format import NODE_ICONS, NODE_LABELS, NODE_STYLES, node_summary

STATUS_WIDTH = 10
PROVIDER_WIDTH = 18
SUMMARY_WIDTH = 20
WIDE_FROM = 76
"""The provider / model column shows from this width on."""
_STYLES = {status: Style.parse(style) for status, style in NODE_STYLES.items()}
_SHORT_LABELS = {**NODE_LABELS, "waiting": "waiting"}
IN_FLIGHT = frozenset({SENDING, WAITING, RETRYING})


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

    # -- public API -----------------------------------------------------------------------

    def show(self, paths: Sequence[str], nodes: Mapping[str, NodeState], *,
             cursor: int = 0) -> None:
        """Show `paths` (a live list the owner may append to) looked up in `nodes`."""
        self._paths = paths
        self._node_states = nodes
        self._highlighted = None
        self._frontier = 0
        self.set_reactive(NodeList.cursor, max(0, min(cursor, len(paths) - 1)))
        self.scroll_to(y=max(0, self.cursor - self.size.height // 2), animate=False)
        self.rows_changed()

    def rows_changed(self) -> None:
        """The rows (or the nodes they show) changed: resize and repaint the visible lines."""
        height = len(self._paths)
        if self.virtual_size.height != height:
            self.virtual_size = Size(0, height)
        if self.follow_activity:
            self._follow()
        self.refresh()
        self._post_highlight()

    def _follow(self) -> None:
        """Put the cursor on the first node in flight (the frontier only moves forward, so
        the search starts where it last stopped)."""
        paths, nodes = self._paths, self._node_states
        start = min(self._frontier, len(paths))
        for index in (*range(start, len(paths)), *range(0, start)):
            node = nodes.get(paths[index])
            if node is not None and node.status in IN_FLIGHT:
                self._frontier = index
                if self.cursor != index:
                    self.set_reactive(NodeList.cursor, index)
                    self._scroll_cursor_into_view(centre=True)
                return

    @property
    def row_count(self) -> int:
        return len(self._paths)

    @property
    def paths(self) -> Sequence[str]:
        return self._paths

    def line_text(self, index: int) -> str:
        """The plain text of row `index`, as the list shows it."""
        path = self._paths[index]
        segments = self._row(path, self._node_states.get(path), self.size.width, Style())
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
        self._base_style = self.rich_style  # once per frame, not once per line
        self._cursor_style = self.get_component_rich_style("node-list--cursor")
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self._base_style
        index = int(self.scroll_offset.y) + y
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
        segments = self._row(path, node, width, base)
        if index == self.cursor:
            cursor = self._cursor_style
            segments = [Segment(text, (style or base) + cursor) for text, style, _ in segments]
        return Strip(segments, width)

    def _row(self, path: str, node: NodeState | None, width: int, base: Style) -> list[Segment]:
        status = node.status if node is not None else "pending"
        style = base + _STYLES.get(status, Style())
        icon = NODE_ICONS.get(status, "?")
        summary = node_summary(node, self._clock()) if node is not None else ""
        provider = ""
        if node is not None and node.provider_name:
            provider = node.provider_name + (f"/{node.model}" if node.model else "")
        wide = width >= WIDE_FROM
        provider_width = PROVIDER_WIDTH + 10 if width >= WIDE_FROM + 40 else PROVIDER_WIDTH
        fixed = 3 + STATUS_WIDTH + 1 + SUMMARY_WIDTH + (provider_width + 1 if wide else 0)
        path_width = max(8, width - fixed)
        segments = [
            Segment(f" {icon} ", style),
            Segment(fit(path, path_width, keep_end=True) + " ", base),
            Segment(fit(_SHORT_LABELS.get(status, status), STATUS_WIDTH) + " ", style),
        ]
        if wide:
            segments.append(Segment(fit(provider, provider_width) + " ", base + Style(dim=True)))
        summary_style = style if status == "failed" else base
        segments.append(Segment(fit(summary, SUMMARY_WIDTH), summary_style))
        return segments

    # -- helpers --------------------------------------------------------------------------

    def _scroll_cursor_into_view(self, *, centre: bool = False) -> None:
        top = int(self.scroll_offset.y)
        height = max(1, self.size.height)
        if centre and not top <= self.cursor < top + height:
            self.scroll_to(y=max(0, self.cursor - height // 3), animate=False)
        elif self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False)

    def _post_highlight(self) -> None:
        path = self.highlighted_path
        if path != self._highlighted:
            self._highlighted = path
            self.post_message(self.Highlighted(self, path))
