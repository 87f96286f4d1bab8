"""The content browser (key 3) over a real workspace generated with the `local` provider."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Markdown, Static
from textual.widgets._markdown import MarkdownFence, MarkdownH1, MarkdownH2

from contextree.engine.workspace.layout import Workspace
from contextree.progress import EventStore
from contextree.tui.app import CtreeApp
from contextree.tui.widgets.node_detail import NodeDetail
from tests.tui.conftest import wait_until
from tests.tui.workspaces import generate, make_workspace, put_frame

SIZE = (140, 40)


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return make_workspace(tmp_path / "demo", review_agent=True)


def open_app(workspace: Workspace, store: EventStore, **options: Any) -> CtreeApp:
    return CtreeApp(store=store, workspace=workspace, auto_follow=False, **options)


async def content_loaded(pilot: Any, app: CtreeApp) -> None:
    await wait_until(pilot, lambda: app.content_mounted  # mounted when first shown
                     and app.content.workspace_tree is not None
                     and app.content.content_tree.display, "the content tree")


async def select(pilot: Any, app: CtreeApp, path: str) -> None:
    """Expand the path's ancestors, put the cursor on it, wait for its frames."""
    tree = app.content.content_tree
    parts = path.split("/")
    for depth in range(1, len(parts)):
        tree._path_nodes["/".join(parts[:depth])].expand()
        child = "/".join(parts[:depth + 1])
        await wait_until(pilot, lambda child=child: child in tree._path_nodes,  # type: ignore[misc]
                         f"{child} in the tree")
    await pilot.pause()
    tree.move_cursor(tree._path_nodes[path])
    await wait_until(pilot, lambda: (frames := app.content.panel.frames) is not None
                     and frames.record.path == path, f"the frames of {path}")


def meta(app: CtreeApp) -> str:
    return str(app.content.panel.query_one("#frame-meta", Static).content)


def note(app: CtreeApp) -> str:
    return str(app.content.panel.query_one("#frame-note", Static).content)


async def test_the_tree_shows_coverage_per_directory_and_dims_nodes_without_context(
        workspace: Workspace) -> None:
    generate(workspace, "pkg")  # pkg and beneath only: the root and its files have none
    store = EventStore.open(workspace.store_path)
    try:
        app = open_app(workspace, store, view="content")
        async with app.run_test(size=SIZE) as pilot:
            await content_loaded(pilot, app)
            tree = app.content.content_tree
            children = [node.data for node in tree.root.children]
            assert children == ["docs", "pkg", "README.md"]  # directories first
            assert tree.label_of(".").plain == "demo  5/9"
            assert tree.label_of("pkg").plain == "pkg/  5/5"
            assert tree.label_of("docs").plain == "docs/  0/2"
            readme = tree.label_of("README.md")
            assert readme.plain == "README.md" and "dim" in str(readme.style)
            assert "dim" not in str(tree.label_of("pkg").style)
            assert app.content.query_one("#tree-pane").border_title == "Workspace · docs 5/9"
    finally:
        store.close()


async def test_a_node_without_context_says_how_to_generate_it(workspace: Workspace) -> None:
    generate(workspace, "pkg")
    store = EventStore.open(workspace.store_path)
    try:
        app = open_app(workspace, store, view="content")
        async with app.run_test(size=SIZE) as pilot:
            await content_loaded(pilot, app)
            await select(pilot, app, "README.md")
            assert note(app) == ("no context yet — press g, or run "
                                 "`ctree context generate README.md`")
            assert not app.content.panel.query_one(Markdown).display
    finally:
        store.close()


async def test_the_frame_renders_as_markdown_under_its_metadata(workspace: Workspace) -> None:
    generate(workspace)
    store = EventStore.open(workspace.store_path)
    content = ("# strings.py\n\nHelpers for *text*.\n\n## Example\n\n```python\n"
               "shout('hi')\n```\n\n- one\n- two\n")
    frame = put_frame(store, "pkg/text/strings.py", content)
    try:
        app = open_app(workspace, store, view="content")
        async with app.run_test(size=SIZE) as pilot:
            await content_loaded(pilot, app)
            await select(pilot, app, "pkg/text/strings.py")
            markdown = app.content.panel.query_one(Markdown)
            await wait_until(pilot, lambda: markdown.query(MarkdownFence), "the markdown")
            assert [str(h.content) for h in markdown.query(MarkdownH1)] == ["strings.py"]
            assert [str(h.content) for h in markdown.query(MarkdownH2)] == ["Example"]
            assert markdown.query_one(MarkdownFence).code.strip() == "shout('hi')"
            header = meta(app)
            assert "pkg/text/strings.py" in header and "docs · context-docs" in header
            assert "local · local-summarizer-1" in header
            assert "2026-11-18 09:30:00" in header and frame.frame_id[:16] in header
    finally:
        store.close()


async def test_a_cycles_through_the_agents_with_context_for_the_node(
        workspace: Workspace) -> None:
    generate(workspace)
    generate(workspace, "pkg/core.py", "--agent", "review")
    store = EventStore.open(workspace.store_path)
    try:
        app = open_app(workspace, store, view="content")
        async with app.run_test(size=SIZE) as pilot:
            await content_loaded(pilot, app)
            await select(pilot, app, "pkg/core.py")
            assert "docs · context-docs" in meta(app) and "also review — press a" in meta(app)
            await pilot.press("a")
            await wait_until(pilot, lambda: "review · context-review" in meta(app),
                             "the review frame")
            pane = app.content.query_one("#tree-pane")
            await wait_until(pilot, lambda: pane.border_title == "Workspace · review 1/9",
                             "the review coverage")
            assert app.content.content_tree.label_of("docs").plain == "docs/  0/2"
            await pilot.press("a")
            await wait_until(pilot, lambda: "docs · context-docs" in meta(app), "back to docs")
    finally:
        store.close()


async def test_d_shows_the_diff_after_an_edit_and_a_forced_regeneration(
        workspace: Workspace) -> None:
    generate(workspace)
    source = workspace.root / "pkg/core.py"
    source.write_text(source.read_text() + '\n\ndef mul(a, b):\n    """Multiply."""\n'
                      "    return a * b\n")
    store = EventStore.open(workspace.store_path)
    try:
        app = open_app(workspace, store, view="content")
        async with app.run_test(size=SIZE) as pilot:
            await content_loaded(pilot, app)
            await select(pilot, app, "pkg/core.py")
            assert "changed since the last scan" in note(app)
            await pilot.press("d")  # one frame only: nothing to compare
            assert not app.content.diff
            await pilot.press("f")
            view = app.session_view
            await wait_until(pilot, lambda: app.current_view == "session" and view.finished,
                             "the regeneration")
            assert view.state is not None and view.state.status == "completed"
            assert view.state.command == "context.generate"
            await pilot.press("3")
            await wait_until(pilot, lambda: "2 in history" in meta(app), "the new frame")
            await pilot.press("d")
            diff = app.content.panel.query_one("#frame-diff", Static)
            await wait_until(pilot, lambda: diff.display, "the diff")
            lines = str(diff.content).splitlines()
            assert any(line.startswith("+") and "mul" in line for line in lines)
            assert any(line.startswith("-") and "Python · 6 lines" in line for line in lines)
            await pilot.press("d")
            assert not diff.display and app.content.panel.query_one(Markdown).display
    finally:
        store.close()


async def test_g_generates_the_selected_node_and_watches_it(workspace: Workspace) -> None:
    generate(workspace, "pkg")
    store = EventStore.open(workspace.store_path)
    try:
        app = open_app(workspace, store, view="content")
        async with app.run_test(size=SIZE) as pilot:
            await content_loaded(pilot, app)
            await select(pilot, app, "docs")
            await pilot.press("g")
            view = app.session_view
            await wait_until(pilot, lambda: app.current_view == "session" and view.finished,
                             "the generation")
            assert view.state is not None and view.state.status == "completed"
            assert set(view.state.nodes) == {"docs", "docs/guide.md"}
            # the node detail shows the generated content, read from the frame store
            await pilot.press("h", "h")  # every node of the session
            nodes = view.query_one("NodeList")
            nodes.cursor = list(nodes.paths).index("docs/guide.md")
            detail = view.query_one(NodeDetail)
            await wait_until(pilot, lambda: any(markdown.display and markdown.query(MarkdownH1)
                                                for markdown in detail.query(Markdown)),
                             "the content in the node detail")  # mounted with the first content
            markdown = detail.query_one(Markdown)
            assert "guide.md" in str(markdown.query_one(MarkdownH1).content)
            await pilot.press("3")
            await wait_until(pilot, lambda: app.content_mounted, "the content view")
            tree = app.content.content_tree
            await wait_until(pilot, lambda: tree.label_of("docs").plain == "docs/  2/2",
                             "the new coverage")
    finally:
        store.close()
