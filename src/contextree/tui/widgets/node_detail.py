"""The detail of one node: status, identity, the full error, a timing breakdown (queue wait,
each provider attempt and each retry's backoff) and the generated content as markdown.

The content is read by `load_content` on a worker thread, once per `(node_id, frame_id)`.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Markdown, Static

from contextree.progress.state import COMPLETED, WAITING, NodeState
from contextree.tui.format import (
    NODE_ICONS,
    NODE_LABELS,
    NODE_STYLES,
    format_count,
    format_ms,
    format_seconds,
    ts_epoch,
)

ContentLoader = Callable[[str | None, str | None], str | None]
NO_CONTENT_YET = "content not stored yet"
LABEL_WIDTH = 10


class NodeDetail(VerticalScroll, can_focus=True):
    """Everything known about the selected node; scrolls when it is long."""

    DEFAULT_CSS = """
    NodeDetail { height: 1fr; padding: 0 1; }
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
        self._shown: tuple[object, ...] | None = None
        self._facts_lines = -1
        self.node: NodeState | None = None

    def compose(self) -> ComposeResult:
        yield Static("select a node to see its detail", id="facts")
        yield Static("", id="content-note")
        yield Markdown("", id="content")

    def show(self, node: NodeState | None) -> None:
        """Show `node` (or nothing); cheap when nothing about it changed."""
        self.node = node
        fingerprint = _fingerprint(node)
        ticking = node is not None and node.status == WAITING
        if fingerprint == self._shown and not ticking:
            return
        self._shown = fingerprint
        facts = self.facts(node)
        lines = facts.plain.count("\n")
        self.query_one("#facts", Static).update(facts, layout=lines != self._facts_lines)
        self._facts_lines = lines
        self._show_content(node)

    def facts(self, node: NodeState | None) -> Text:
        if node is None:
            return Text("select a node to see its detail", style="dim")
        text = Text()
        text.append(node.path + "\n", style="bold")
        status_style = NODE_STYLES.get(node.status, "")
        status = f"{NODE_ICONS.get(node.status, '?')} {NODE_LABELS.get(node.status, node.status)}"
        if node.attempt > 1:
            status += f" (attempt {node.attempt})"
        _line(text, "status", status, status_style)
        if node.node_id:
            _line(text, "node", node.node_id[:16])
        identity = " · ".join(
            part for part in (f"agent {node.agent_id}" if node.agent_id else "",
                              f"frame {node.frame_type}" if node.frame_type else "") if part)
        if identity:
            _line(text, "", identity)
        if node.provider_name:
            provider = node.provider_name + (f" / {node.model}" if node.model else "")
            _line(text, "provider", provider)
        if node.level_index is not None:
            _line(text, "level", str(node.level_index + 1))
        self._timing(text, node)
        if node.input_tokens is not None or node.output_tokens is not None:
            _line(text, "tokens", f"in {format_count(node.input_tokens)} · "
                                  f"out {format_count(node.output_tokens)}")
        if node.skip_reason:
            _line(text, "skipped", node.skip_reason.replace("_", " "))
        if node.error:
            _line(text, "error", node.error + _error_kind(node), "red")
        return text

    def _timing(self, text: Text, node: NodeState) -> None:
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
        if node.status == WAITING:
            sent = ts_epoch(node.sent_ts)
            waited = format_seconds(self._clock() - sent) if sent is not None else "…"
            rows.append((f"attempt {max(node.attempt, 1)}", waited, "in flight"))
        if node.duration_ms is not None:
            rows.append(("total", format_ms(node.duration_ms), ""))
        for index, (label, value, note) in enumerate(rows):
            _line(text, "timing" if index == 0 else "", f"{label:<11} {value:>9}  ",
                  note_text=note)

    def _show_content(self, node: NodeState | None) -> None:
        note = self.query_one("#content-note", Static)
        markdown = self.query_one("#content", Markdown)
        if node is None or not node.frame_id:
            self._content_key = None
            markdown.display = False
            note.update("" if node is None else "no content: the node has not been generated")
            return
        key = (node.node_id, node.frame_id)
        if key == self._content_key:
            return
        self._content_key = key
        note.update(f"content · frame {node.frame_id[:16]}")
        markdown.display = False
        self._fetch_content(key)

    @work(thread=True, exclusive=True, group="node-content")
    def _fetch_content(self, key: tuple[str | None, str | None]) -> None:
        content = self._load_content(*key)
        self.app.call_from_thread(self._content_loaded, key, content)

    def _content_loaded(self, key: tuple[str | None, str | None], content: str | None) -> None:
        if key != self._content_key:
            return
        markdown = self.query_one("#content", Markdown)
        if content is None:
            self.query_one("#content-note", Static).update(NO_CONTENT_YET)
            markdown.display = False
            return
        markdown.display = True
        markdown.update(content)


def _line(text: Text, label: str, value: str, style: str = "", *, note_text: str = "") -> None:
    text.append(f"{label:<{LABEL_WIDTH}}", style="dim")
    text.append(value, style=style)
    if note_text:
        text.append(note_text, style="dim")
    text.append("\n")


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
