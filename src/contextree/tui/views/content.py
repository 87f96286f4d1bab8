"""The content browser (key 3): the workspace tree and the selected node's context.

The tree and each node's frames are read on worker threads (`read_workspace_tree`,
`read_node_frames`), which post `TreeLoaded` / `FramesLoaded`; the view keeps the newest.
Coverage and dimming follow the agent shown (the configured default, `a` for another one with
context for the node). `g` and `f` run `context generate` for the node through the command
bar's runner, and the app switches to the session view to watch it.

| Key | Action |
|---|---|
| `g` | generate context for the selected node (watched in the session view) |
| `f` | force: regenerate it even if it is current |
| `a` | next agent with context for the node |
| `d` | diff against the node's previous frame (again: back to the frame) |
| `r` | read the tree again |
"""

from __future__ import annotations

import shlex
import time
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Static, Tree

from contextree.engine.generation.agents import resolve_agent
from contextree.engine.workspace.config import load_config
from contextree.engine.workspace.layout import Workspace
from contextree.engine.workspace.tree import ROOT
from contextree.errors import ContextreeError
from contextree.progress import EventStore
from contextree.tui.content_data import (
    NodeFrames,
    WorkspaceTree,
    read_node_frames,
    read_workspace_tree,
)
from contextree.tui.messages import RunCommand
from contextree.tui.views import view_title
from contextree.tui.widgets.content_tree import ContentTree
from contextree.tui.widgets.frame_panel import FramePanel

AgentChoice = tuple[str, str]  # (agent id, frame type)
DEFAULT_AGENT: AgentChoice = ("docs", "context-docs")
MIN_RELOAD_S = 2.0
NO_SCAN = ("no scan yet — press g to generate context for the whole workspace, "
           "or run `ctree scan`")


class ContentView(Horizontal):
    """The workspace tree and the selected node's context; see the module docstring."""

    HELP_TITLE = view_title("content")
    HELP_POINTER: ClassVar[list[tuple[str, str]]] = [
        ("enter", "show the node's context; on a directory, open or close it"),
        ("click", "select a node; click a directory's arrow to open it"),
    ]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("g", "generate(False)", "Generate"),
        Binding("f", "generate(True)", "Force"),
        Binding("a", "next_agent", "Agent"),
        Binding("d", "diff", "Diff"),
        Binding("r", "reload", "Reload"),
    ]

    class TreeLoaded(Message):
        """A worker read the tree (or failed to)."""

        def __init__(self, tree: WorkspaceTree | None, agent: AgentChoice, default_agent: str,
                     txn: int, error: str | None = None) -> None:
            super().__init__()
            self.tree, self.agent, self.default_agent = tree, agent, default_agent
            self.txn, self.error = txn, error

    class FramesLoaded(Message):
        """A worker read a node's frames (or failed to)."""

        def __init__(self, path: str, agent: AgentChoice, frames: NodeFrames | None,
                     error: str | None = None) -> None:
            super().__init__()
            self.path, self.agent, self.frames, self.error = path, agent, frames, error

    def __init__(self, *, store: EventStore, workspace: Workspace | None,
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self.store = store
        self.workspace = workspace
        self.agent: AgentChoice | None = None
        self.default_agent = DEFAULT_AGENT[0]
        self.workspace_tree: WorkspaceTree | None = None
        self.diff = False
        self._loaded_txn = -1
        self._loaded_at = 0.0
        self._loading = False

    def compose(self) -> ComposeResult:
        with Vertical(id="tree-pane", classes="box"):
            yield Static("reading the tree…", id="tree-empty")
            yield ContentTree(root_name=self.workspace.root.name if self.workspace else ".",
                              id="content-tree")
        yield FramePanel(id="frame-pane")

    def on_mount(self) -> None:
        self.query_one("#tree-pane").border_title = "Workspace"
        self.query_one(FramePanel).border_title = "Context"
        self.query_one(ContentTree).display = False

    # -- public API -----------------------------------------------------------------------

    @property
    def content_tree(self) -> ContentTree:
        return self.query_one(ContentTree)

    @property
    def panel(self) -> FramePanel:
        return self.query_one(FramePanel)

    def activate(self, *, force: bool = False) -> None:
        """Read the tree again if the store changed since (at most every `MIN_RELOAD_S`)."""
        if self._loading:
            return
        changed = self.store.last_txn_id() != self._loaded_txn
        if force or (changed and time.monotonic() - self._loaded_at >= MIN_RELOAD_S) \
                or self.workspace_tree is None:
            self._loading = True
            self._load_tree(self.agent)

    # -- loading --------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="content-tree")
    def _load_tree(self, agent: AgentChoice | None) -> None:
        txn = self.store.last_txn_id()
        default, warning = self.default_agent, None
        try:
            if agent is None:
                agent, warning = self._configured_agent()
                default = agent[0]
            tree = read_workspace_tree(self.store, agent[1])
        except Exception as exc:  # shown in the UI; the view stays usable
            self.post_message(self.TreeLoaded(None, agent or DEFAULT_AGENT, default, txn,
                                              error=f"reading the tree failed: {exc}"))
            return
        self.post_message(self.TreeLoaded(tree, agent, default, txn, error=warning))

    def _configured_agent(self) -> tuple[AgentChoice, str | None]:
        """The default agent of the workspace's configuration, and a warning if unreadable."""
        try:
            agent = resolve_agent(load_config(self.workspace))
        except ContextreeError as exc:
            return DEFAULT_AGENT, f"{exc} — showing the docs agent"
        return (agent.id, agent.frame_type), None

    @work(thread=True, exclusive=True, group="content-frames")
    def _load_frames(self, path: str, agent: AgentChoice, frame_types: list[str]) -> None:
        try:
            frames = read_node_frames(self.workspace, self.store, path, agent[0], agent[1],
                                      frame_types=frame_types)
        except Exception as exc:
            self.post_message(self.FramesLoaded(path, agent, None,
                                                error=f"reading {path} failed: {exc}"))
            return
        self.post_message(self.FramesLoaded(path, agent, frames))

    def on_content_view_tree_loaded(self, message: TreeLoaded) -> None:
        message.stop()
        self._loading = False
        if message.error:
            self.notify(message.error, title="content", severity="error")
        self._loaded_txn, self._loaded_at = message.txn, time.monotonic()
        self.agent, self.default_agent = message.agent, message.default_agent
        self.panel.default_agent = message.default_agent
        tree = message.tree
        if tree is None:
            return
        self.workspace_tree = tree
        empty = self.query_one("#tree-empty", Static)
        if self.workspace is None:
            empty.update("no workspace — start the TUI in a workspace, or pass -C PATH")
        elif not tree.scanned:
            empty.update(NO_SCAN)
        empty.display = not tree.scanned
        self.content_tree.display = tree.scanned
        if not tree.scanned:
            self.panel.show_message(NO_SCAN)
            return
        covered, total = tree.coverage.get(ROOT, (0, 0))
        self.query_one("#tree-pane").border_title = \
            f"Workspace · {message.agent[0]} {covered}/{total}"
        self.content_tree.show(tree)
        focused = self.app.focused
        if self.display and (focused is None or focused is self.panel
                             or not focused.is_on_screen):
            self.content_tree.focus()
        self._show_selected()

    def _show_selected(self) -> None:
        path = self.content_tree.highlighted_path
        if path is None or self.workspace_tree is None or self.agent is None:
            return
        self._load_frames(path, self.agent, self.workspace_tree.frame_types)

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[str]) -> None:
        event.stop()
        if self.diff:
            self.diff = False
        self._show_selected()

    def on_content_view_frames_loaded(self, message: FramesLoaded) -> None:
        message.stop()
        if message.error:
            self.notify(message.error, title="content", severity="error")
            return
        if message.path != self.content_tree.highlighted_path or message.agent != self.agent:
            return
        if message.frames is None:
            self.panel.show_message(f"{message.path} is not in the tree any more — press r")
            return
        self.panel.show(message.frames, diff=self.diff)

    # -- actions --------------------------------------------------------------------------

    def action_generate(self, force: bool) -> None:
        if self.workspace is None:
            self.notify("no workspace to generate in", severity="error")
            return
        scanned = self.workspace_tree is not None and self.workspace_tree.scanned
        path = (self.content_tree.highlighted_path if scanned else None) or ROOT
        words = ["context", "generate", path]
        if self.agent is not None and self.agent[0] != self.default_agent:
            words += ["--agent", self.agent[0]]
        if force:
            words.append("--force")
        self.post_message(RunCommand(shlex.join(words)))

    def action_next_agent(self) -> None:
        frames = self.panel.frames
        if frames is None or self.agent is None:
            return
        choices = frames.agents
        path = frames.record.path
        if not choices:
            self.notify(f"no agent has context for {path} yet — press g", severity="warning")
            return
        if choices == [self.agent]:
            self.notify(f"only {self.agent[0]} has context for {path}", severity="warning")
            return
        index = choices.index(self.agent) if self.agent in choices else -1
        self.agent = choices[(index + 1) % len(choices)]
        self.notify(f"showing {self.agent[0]}'s context", timeout=2)
        self._loading = True
        self._load_tree(self.agent)

    def action_diff(self) -> None:
        frames = self.panel.frames
        if frames is None or frames.frame is None:
            return
        if not self.diff and frames.previous is None:
            self.notify(f"no earlier frame of {frames.record.path} to compare with — it has "
                        "one frame", severity="warning")
            return
        self.diff = not self.diff
        self.panel.show(frames, diff=self.diff)

    def action_reload(self) -> None:
        self.activate(force=True)
