"""The workspace tree of the content browser: directories first, coverage per directory.

Each directory shows how many nodes of its subtree (itself included) have current context,
e.g. `12/15`; a node without context is dimmed. A directory's children are added when its
parent is filled — one level ahead of what is expanded, so keys pressed right after expanding
find them — and a workspace of 10,000 files costs only what is near the screen. `show(tree)`
replaces the data and keeps what was expanded and the cursor where they still exist.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from contextree.engine.workspace.tree import DIRECTORY, ROOT
from contextree.tui.content_data import WorkspaceTree


class ContentTree(Tree[str]):
    """The scanned workspace; each node's data is its workspace-relative path."""

    DEFAULT_CSS = """
    ContentTree { background: $surface; }
    """

    def __init__(self, *, root_name: str, id: str | None = None) -> None:
        super().__init__(root_name, data=ROOT, id=id)
        self.root_name = root_name
        self.workspace_tree: WorkspaceTree | None = None
        self._path_nodes: dict[str, TreeNode[str]] = {}
        self._filled: set[str] = set()

    @property
    def highlighted_path(self) -> str | None:
        node = self.cursor_node
        return node.data if node is not None else None

    def show(self, tree: WorkspaceTree) -> None:
        """Show `tree`, keeping expanded directories and the cursor's path."""
        expanded = {path for path, node in self._path_nodes.items() if node.is_expanded}
        expanded.add(ROOT)
        cursor = self.highlighted_path or ROOT
        self.workspace_tree = tree
        self.clear()
        self._path_nodes = {ROOT: self.root}
        self._filled = set()
        self.root.set_label(self.label_of(ROOT))
        for path in sorted(expanded, key=lambda item: (item.count("/"), item)):
            node = self._path_nodes.get(path)
            if node is not None and path in tree.children:
                self._fill(node)
                node.expand()
        self.root.expand()
        target = self._path_nodes.get(cursor)
        while target is None and cursor != ROOT:
            cursor = cursor.rpartition("/")[0] or ROOT
            target = self._path_nodes.get(cursor)
        self.call_after_refresh(self.move_cursor, target or self.root)

    def label_of(self, path: str) -> Text:
        tree = self.workspace_tree
        if tree is None:
            return Text(self.root_name)
        record = tree.records.get(path)
        name = self.root_name if path == ROOT else (record.name if record else path)
        is_dir = record is not None and record.type == DIRECTORY
        label = Text(name + ("/" if is_dir and path != ROOT else ""),
                     style="" if path in tree.covered else "dim")
        coverage = tree.coverage.get(path)
        if coverage is not None:
            covered, total = coverage
            style = "green" if covered == total else "yellow" if covered else "dim"
            label.append(f"  {covered}/{total}", style=style)
        return label

    def _fill(self, node: TreeNode[str], *, ahead: bool = True) -> None:
        """Add `node`'s children (and, `ahead`, its child directories' children)."""
        path = node.data
        tree = self.workspace_tree
        if path is None or tree is None:
            return
        if path not in self._filled:
            self._filled.add(path)
            for child in tree.children.get(path, ()):
                is_dir = child in tree.children
                added = node.add(self.label_of(child), data=child, allow_expand=is_dir) \
                    if is_dir else node.add_leaf(self.label_of(child), data=child)
                self._path_nodes[child] = added
        if ahead:
            for child_node in node.children:
                if child_node.allow_expand:
                    self._fill(child_node, ahead=False)

    def _on_tree_node_expanded(self, event: Tree.NodeExpanded[str]) -> None:
        self._fill(event.node)
