"""The selected node's context: a compact metadata header and the frame as markdown, or the
diff against the node's previous frame.

A node without context says so and how to get it; a frame that describes an earlier version of
the node, or a file changed since the scan, carries a warning with the fix.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Markdown, Static

from contextree.engine.generation.frames import Frame
from contextree.tui.content_data import NodeFrames, frame_diff
from contextree.tui.format import format_bytes, format_start

LABEL_WIDTH = 9


class FramePanel(VerticalScroll, can_focus=True):
    """Shows one node's frame (`show`) or its diff (`show(…, diff=True)`)."""

    DEFAULT_CSS = """
    FramePanel { padding: 0 1; }
    FramePanel #frame-meta { width: 1fr; }
    FramePanel #frame-note { width: 1fr; color: $warning; margin-top: 1; display: none; }
    FramePanel #frame-note.-shown { display: block; }
    FramePanel #frame-markdown { margin: 1 0 0 0; padding: 0; }
    FramePanel #frame-diff { margin-top: 1; display: none; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.frames: NodeFrames | None = None
        self.diff = False
        self.default_agent = "docs"
        """The configured default agent: a hint to generate names any other one."""
        self._markdown_for: str | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text("select a node to see its context", style="dim"), id="frame-meta")
        yield Static("", id="frame-note")
        yield Markdown("", id="frame-markdown")
        yield Static("", id="frame-diff")

    def show_message(self, message: str | Text) -> None:
        """Show only `message` (loading, no scan yet, …)."""
        self.frames = None
        self._markdown_for = None
        self.query_one("#frame-meta", Static).update(
            message if isinstance(message, Text) else Text(message, style="dim"))
        self._note(None)
        self.query_one("#frame-markdown").display = False
        self.query_one("#frame-diff").display = False

    def show(self, frames: NodeFrames, *, diff: bool = False) -> None:
        self.frames = frames
        self.diff = diff
        frame = frames.frame
        self.query_one("#frame-meta", Static).update(metadata(frames))
        self._note(note(frames, default_agent=self.default_agent))
        markdown = self.query_one("#frame-markdown", Markdown)
        diff_view = self.query_one("#frame-diff", Static)
        previous = frames.previous
        if diff and frame is not None and previous is not None:
            diff_view.update(diff_text(previous, frame))
            diff_view.display = True
            markdown.display = False
            return
        diff_view.display = False
        markdown.display = frame is not None
        if frame is not None and self._markdown_for != frame.frame_id:
            self._markdown_for = frame.frame_id
            markdown.update(frame.content)
            self.scroll_home(animate=False)

    def _note(self, text: str | None) -> None:
        widget = self.query_one("#frame-note", Static)
        widget.update(text or "")
        widget.set_class(bool(text), "-shown")


def metadata(frames: NodeFrames) -> Text:
    """The header: path and kind, then who wrote the frame, when, and its id."""
    record = frames.record
    text = Text()
    text.append(record.path, style="bold")
    kind = "directory" if record.type == "directory" else f"file · {format_bytes(record.size)}"
    if record.path == ".":
        kind = "the workspace root"
    text.append(f"  {kind}\n", style="dim")
    frame = frames.frame
    agents = [agent for agent, _ in frames.agents]
    if frame is None:
        _line(text, "agent", frames.agent_id, extra=_others(agents, frames.agent_id))
        return _rstrip(text)
    _line(text, "agent", f"{frame.agent_id} · {frame.frame_type}",
          extra=_others(agents, frame.agent_id))
    _line(text, "provider", f"{frame.provider_name} · {frame.model}")
    tokens = ""
    if frame.input_tokens is not None or frame.output_tokens is not None:
        tokens = f" · {frame.input_tokens or 0} in / {frame.output_tokens or 0} out tokens"
    _line(text, "created", f"{format_start(frame.created_at)}{tokens}")
    position = f" · {len(frames.history)} in history" if frames.history else ""
    _line(text, "frame", f"{frame.frame_id[:16]}{position}")
    return _rstrip(text)


def note(frames: NodeFrames, *, default_agent: str = "docs") -> str | None:
    """What the user should know about the frame shown, with the fix; None if all is well."""
    path = frames.record.path
    if frames.frame is None:
        agent = f" --agent {frames.agent_id}" if frames.agent_id != default_agent else ""
        return f"no context yet — press g, or run `ctree context generate {path}{agent}`"
    if frames.outdated:
        return (f"this context describes an earlier version of {path} — press g to "
                "regenerate it")
    if frames.changed_on_disk:
        return f"{path} changed since the last scan — press g to regenerate its context"
    return None


def diff_text(previous: Frame, current: Frame) -> Text:
    """The unified diff of two frames, coloured like `git diff`."""
    lines = frame_diff(previous, current)
    text = Text(no_wrap=False)
    if not lines:
        text.append("the previous frame has the same content", style="dim")
        return text
    for line in lines:
        if line.startswith(("---", "+++")):
            style = "bold"
        elif line.startswith("@@"):
            style = "cyan"
        elif line.startswith("+"):
            style = "green"
        elif line.startswith("-"):
            style = "red"
        else:
            style = ""
        text.append(line + "\n", style=style)
    return _rstrip(text)


def _others(agents: list[str], shown: str) -> str:
    others = [agent for agent in agents if agent != shown]
    return f"  (also {', '.join(others)} — press a)" if others else ""


def _line(text: Text, label: str, value: str, *, extra: str = "") -> None:
    text.append(f"{label:<{LABEL_WIDTH}}", style="dim")
    text.append(value)
    if extra:
        text.append(extra, style="dim")
    text.append("\n")


def _rstrip(text: Text) -> Text:
    text.rstrip()
    return text
