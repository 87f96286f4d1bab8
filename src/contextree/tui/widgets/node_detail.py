"""The detail of one node: status, identity, the full error, a timing breakdown (queue wait,
each provider attempt and each retry's backoff) and the generated content as markdown.

The content is read by `load_content` on a worker thread, once per `(node_id, frame_id)`.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from contextree.progress.state import COMPLETED, RETRYING, WAITING, NodeState
from contextree.tui.format import (
    NODE_ICONS,
    NODE_LABELS,
    NODE_STYLES,
    format_count,
    format_ms,
    format_seconds,
    retry_summary,
    skip_reason_text,
    ts_epoch,
)

if TYPE_CHECKING:
    from textual.widgets import Markdown

NO_BREAK = "\u00a0"
ContentLoader = Callable[[str | None, str | None], str | None]
NO_CONTENT_YET = "content not stored yet"
LABEL_WIDTH = 10
MIN_VALUE_WIDTH = 16
MIN_NOTE_WIDTH = 12
TIMING_TABLE_WIDTH = 28
"""From this value width on the timing rows line up as a table (label, value, note)."""


class NodeDetail(VerticalScroll, can_focus=True):
    """Everything known about the selected node; scrolls when it is long.

    The facts are wrapped to the detail's width, so that width must not depend on them: the
    scrollbar's column is always kept (`scrollbar-gutter: stable`), and nothing is wrapped
    before the first layout. Otherwise the wrap decides the height, the height decides
    whether a scrollbar takes two columns, and those decide the wrap again, settling on
    one of two layouts depending on the order of the passes.
    """

    DEFAULT_CSS = """
    NodeDetail { height: 1fr; padding: 0 1; scrollbar-gutter: stable; }
    NodeDetail #facts { width: 1fr; }
    NodeDetail #content-note { color: $text-muted; margin-top: 1; }
    NodeDetail Markdown { margin: 1 0 0 0; padding: 0; }
    """

    def __init__(self, *, load_content: ContentLoader, clock: Callable[[], float],
                 name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._load_content = load_content
        self._clock = clock
        self._content_key: tuple[str | None, str | None] | None = None
        self._answered_key: tuple[str | None, str | None] | None = None
        self._shown: tuple[object, ...] | None = None
        self._facts_lines = -1
        self._note_text = ""
        self._markdown: Markdown | None = None
        """The content as markdown, mounted when there is first some to show: the markdown
        renderer costs the TUI's first paint ~40 ms to import."""
        self.node: NodeState | None = None

    def compose(self) -> ComposeResult:
        yield Static("select a node to see its detail", id="facts")
        yield Static("", id="content-note")

    def show(self, node: NodeState | None) -> None:
        """Show `node` (or nothing); cheap when nothing about it changed."""
        self.node = node
        if not self.scrollable_content_region.width:
            return  # not laid out yet: the first resize shows it at its real width
        fingerprint = (_fingerprint(node), self._value_width())
        ticking = node is not None and node.status in (WAITING, RETRYING)
        if fingerprint == self._shown and not ticking:
            return
        rewrapped = self._shown is None or self._shown[1] != fingerprint[1]
        self._shown = fingerprint
        facts = self.facts(node)
        lines = facts.plain.count("\n")
        # a new line count or a new width needs a layout pass; a ticking timer does not
        self.query_one("#facts", Static).update(
            facts, layout=rewrapped or lines != self._facts_lines)
        self._facts_lines = lines
        self._show_content(node)

    @property
    def settled(self) -> bool:
        """The facts shown were wrapped to the detail's current width (a test waits on it)."""
        return self._shown is not None and self.scrollable_content_region.width > 0 \
            and self._shown[1] == self._value_width()

    @property
    def content_answered(self) -> bool:
        """The shown node's content (or that it has none) is on screen, not still being
        read (a benchmark waits on it)."""
        return self._content_key is None or self._answered_key == self._content_key

    def on_resize(self) -> None:
        self.show(self.node)  # long values wrap again under their label

    def _value_width(self) -> int:
        """Cells left for a value after its label (the facts' width, once laid out)."""
        return max(MIN_VALUE_WIDTH, self.scrollable_content_region.width - LABEL_WIDTH - 1)

    def facts(self, node: NodeState | None) -> Text:
        if node is None:
            return Text("select a node to see its detail", style="dim")
        text = Text()
        value_width = self._value_width()

        def _line(label: str, value: str, style: str = "", *, note_text: str = "") -> None:
            _wrapped_line(text, label, value, style, note_text=note_text, width=value_width)

        text.append(node.path + "\n", style="bold")
        status_style = NODE_STYLES.get(node.status, "")
        status = f"{NODE_ICONS.get(node.status, '?')} {NODE_LABELS.get(node.status, node.status)}"
        if node.attempt > 1:
            status += f" (attempt {node.attempt})"
        _line("status", status, status_style)
        if node.node_id:
            _line("node", node.node_id[:16])
        identity = " · ".join(
            part for part in (f"agent {node.agent_id}" if node.agent_id else "",
                              f"frame {node.frame_type}" if node.frame_type else "") if part)
        if identity:
            _line("", identity)
        if node.provider_name:
            provider = node.provider_name + (f" / {node.model}" if node.model else "")
            _line("provider", provider)
        if node.level_index is not None:
            _line("level", str(node.level_index + 1))
        self._timing(text, node, value_width)
        if node.input_tokens is not None or node.output_tokens is not None:
            _line("tokens", f"in {format_count(node.input_tokens)} · "
                                  f"out {format_count(node.output_tokens)}")
        if node.skip_reason:
            _line("skipped", skip_reason_text(node.skip_reason))
        if node.error:
            _line("error", node.error + _error_kind(node), "red")
        return text

    def _timing(self, text: Text, node: NodeState, width: int) -> None:
        rows: list[tuple[str, str, str]] = []
        if node.queue_wait_ms is not None:
            rows.append(("queue wait", format_ms(node.queue_wait_ms), ""))
        for index, latency in enumerate(node.attempt_ms):
            retry = node.retries[index] if index < len(node.retries) else None
            if retry is not None:
                outcome = _short(retry.error)
            elif node.status == COMPLETED:
                outcome = "ok"
            else:
                outcome = node.error_kind or _short(node.error or "")
            rows.append((f"attempt {index + 1}", format_ms(latency), outcome))
            if retry is not None:
                rows.append(("backoff", format_ms(retry.delay_ms),
                             f"before attempt {retry.attempt}"))
        if node.status == RETRYING:
            rows.append(("next", "", retry_summary(node, self._clock())))
        if node.status == WAITING:
            sent = ts_epoch(node.sent_ts)
            waited = format_seconds(self._clock() - sent) if sent is not None else "…"
            rows.append((f"attempt {max(node.attempt, 1)}", waited, "in flight"))
        if node.duration_ms is not None:
            rows.append(("total", format_ms(node.duration_ms), ""))
        aligned = width >= TIMING_TABLE_WIDTH
        for index, (label, value, note) in enumerate(rows):
            if aligned:
                cells = f"{label:<11} {value:>9}  "
            else:  # a narrow wrap never parts a number from its unit
                cells = f"{label} {value.replace(' ', NO_BREAK)}  "
            _wrapped_line(text, "timing" if index == 0 else "", cells, note_text=note,
                          width=width)

    def _show_content(self, node: NodeState | None) -> None:
        if node is None or not node.frame_id:
            self._content_key = None
            self._hide_markdown()
            self._note("" if node is None else "no content: the node has not been generated")
            return
        key = (node.node_id, node.frame_id)
        if key == self._content_key:
            return
        self._content_key = key
        self._note(f"content · frame {node.frame_id[:16]}")
        self._hide_markdown()
        self._fetch_content(key)

    def _hide_markdown(self) -> None:
        if self._markdown is not None:
            self._markdown.display = False

    def _note(self, text: str) -> None:
        """Set the line above the content, only on a change, and with a layout pass only
        when it wraps to another number of lines (paging through nodes changes it each time)."""
        if text == self._note_text:
            return
        note = self.query_one("#content-note", Static)
        width = note.content_region.width
        layout = not width or self._wrapped_lines(text, width) != \
            self._wrapped_lines(self._note_text, width)
        self._note_text = text
        note.update(text, layout=layout)

    def _wrapped_lines(self, text: str, width: int) -> int:
        return len(Text(text).wrap(self.app.console, width))

    @work(thread=True, exclusive=True, group="node-content")
    def _fetch_content(self, key: tuple[str | None, str | None]) -> None:
        content = self._load_content(*key)
        self.app.call_from_thread(self._content_loaded, key, content)

    def _content_loaded(self, key: tuple[str | None, str | None], content: str | None) -> None:
        if key != self._content_key:
            return
        self._answered_key = key
        if content is None:
            self._note(NO_CONTENT_YET)
            self._hide_markdown()
            return
        if self._markdown is None:  # the first content shown: mounted (and imported) now
            from textual.widgets import Markdown

            self._markdown = Markdown(content, id="content")
            self.mount(self._markdown)
            return
        self._markdown.display = True
        self._markdown.update(content)


def _wrapped_line(text: Text, label: str, value: str, style: str = "", *, note_text: str = "",
                  width: int) -> None:
    """`label` then `value` (and a dim note); a long value wraps under itself, never under
    the label, so the labels stay a column."""
    text.append(f"{label:<{LABEL_WIDTH}}", style="dim")
    whole = value + note_text
    if len(whole) <= width:
        text.append(value, style=style)
        if note_text:
            text.append(note_text, style="dim")
        text.append("\n")
        return
    if note_text and width - len(value) >= MIN_NOTE_WIDTH:  # the note wraps in its column
        text.append(value, style=style)
        indent = "\n" + " " * (LABEL_WIDTH + len(value))
        notes = textwrap.wrap(note_text, width - len(value), break_on_hyphens=False)
        text.append(indent.join(notes) + "\n", style="dim")
        return
    indent = "\n" + " " * LABEL_WIDTH
    lines = textwrap.wrap(whole, width, break_long_words=True, break_on_hyphens=False) or [""]
    text.append(indent.join(lines) + "\n", style=style or ("dim" if note_text else ""))


def _short(text: str, width: int = 36) -> str:
    line = text.splitlines()[0] if text else ""
    return line if len(line) <= width else line[: width - 1] + "…"


def _error_kind(node: NodeState) -> str:
    if not node.error_kind:
        return ""
    code = f", HTTP {node.status_code}" if node.status_code else ""
    return f" ({node.error_kind}{code})"


def _fingerprint(node: NodeState | None) -> tuple[object, ...] | None:
    if node is None:
        return None
    return (node.path, node.status, node.attempt, node.error, node.duration_ms, node.frame_id,
            len(node.retries), len(node.attempt_ms), node.queue_wait_ms, node.model,
            node.input_tokens, node.skip_reason)
