"""The session view: the seed's TUI contract tests and the rest of what the view shows."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import Static

from contextree.progress import ProgressRuntime, Session
from contextree.progress.state import (
    COMPLETED,
    FAILED,
    QUEUED,
    RETRYING,
    WAITING,
    NodeState,
    RetryInfo,
)
from contextree.tui.app import CtreeApp
from contextree.tui.views.session import SessionView
from contextree.tui.widgets.node_detail import LABEL_WIDTH, NodeDetail
from contextree.tui.widgets.node_list import NodeList
from tests.tui.conftest import FROZEN_NOW, AppFactory, wait_until
from tests.tui.synthetic import (
    T0,
    fixed_ulid,
    flat_plan,
    generation_events,
    hex_id,
    scan_events,
    tree_plan,
    watch_events,
    write_session,
)

PLAN = {"plan_id": "feedc0de", "agent_id": "docs", "provider_name": "local",
        "frame_type": "context-docs"}


def node(path: str, level: int = 0) -> dict[str, Any]:
    return {**PLAN, "level_index": level, "node_id": hex_id(path), "path": path}


def request(path: str, attempt: int = 1) -> dict[str, Any]:
    return {"request_id": hex_id("req", path, length=16), "node_id": hex_id(path), "path": path,
            "provider_name": "local", "provider_type": "local", "model": "local-summary",
            "attempt": attempt}


def start_generation(session: Session, paths: list[str], *, levels: int = 1) -> None:
    session.emit("plan_constructed", {**PLAN, "node_id": hex_id("."), "path": ".",
                                      "model": "local-summary", "force": False,
                                      "recursive": True, "total_nodes": len(paths),
                                      "total_levels": levels, "skipped_count": 0})
    session.emit("generation_started", {"plan_id": "feedc0de", "path": ".",
                                        "total_levels": levels, "total_nodes": len(paths)})


def start_level(session: Session, index: int, paths: list[str], *, levels: int = 1) -> None:
    session.emit("level_started", {"plan_id": "feedc0de", "level_index": index,
                                   "total_levels": levels, "node_count": len(paths)})
    for path in paths:
        session.emit("node_generation_started", node(path, index))


def send(session: Session, path: str) -> None:
    session.emit("request_processing", {**request(path), "queue_wait_ms": 3})
    session.emit("provider_request_sent", {**request(path), "prompt_chars": 900})


def detail_text(app: CtreeApp) -> str:
    return str(app.session_view.query_one(NodeDetail).query_one("#facts", Static).content)


def unwrapped(text: str) -> str:
    """The detail's text with long values joined again (they wrap under their label)."""
    return text.replace("\n" + " " * LABEL_WIDTH, " ")


def header_text(app: CtreeApp) -> str:
    header = app.session_view.query_one("ProgressHeader")
    return " ".join(str(widget.content) for widget in header.query(Static))


def node_status(view: SessionView, path: str) -> str | None:
    state = view.state
    found = state.nodes.get(path) if state is not None else None
    return found.status if found is not None else None


async def test_provider_response_moves_node_from_waiting_to_completed(
        runtime: ProgressRuntime, make_app: AppFactory) -> None:
    session = runtime.session("context.generate", {"path": "."})
    start_generation(session, ["src/a.py"])
    start_level(session, 0, ["src/a.py"])
    send(session, "src/a.py")
    runtime.flush()
    app = make_app(session_id=session.session_id, clock=time.time)
    async with app.run_test(size=(120, 36)) as pilot:
        view = app.session_view
        nodes = view.query_one(NodeList)
        await wait_until(pilot, lambda: node_status(view, "src/a.py") == WAITING, "waiting")
        await wait_until(pilot, lambda: nodes.row_count == 1, "the node listed")
        assert "waiting" in nodes.line_text(0)
        await wait_until(pilot, lambda: "waiting for provider" in detail_text(app),
                         "the detail shown at its first layout")

        session.emit("provider_response_received", {
            **request("src/a.py"), "duration_ms": 812, "input_tokens": 300,
            "output_tokens": 120, "response_chars": 480})
        runtime.flush()
        await wait_until(pilot, lambda: "completed" in nodes.line_text(0), "completed row")
        assert node_status(view, "src/a.py") == COMPLETED
        # while the list follows the work the detail changes at most every quarter second
        await wait_until(pilot, lambda: "completed" in detail_text(app), "completed detail")
        assert "812 ms" in detail_text(app)  # the provider latency of attempt 1
        session.end()


async def test_node_generation_failed_shows_the_error_in_the_detail(
        runtime: ProgressRuntime, make_app: AppFactory) -> None:
    error = "provider rejected the request: 400 Bad Request — prompt too long"
    session = runtime.session("context.generate", {"path": "."})
    start_generation(session, ["src/ok.py", "src/bad.py"])
    start_level(session, 0, ["src/ok.py", "src/bad.py"])
    runtime.flush()
    app = make_app(session_id=session.session_id, clock=time.time)
    async with app.run_test(size=(120, 36)) as pilot:
        view = app.session_view
        nodes = view.query_one(NodeList)
        await wait_until(pilot, lambda: nodes.row_count == 2, "both nodes listed")
        send(session, "src/bad.py")
        session.emit("node_generation_failed", {**node("src/bad.py"), "error": error,
                                                "duration_ms": 95})
        runtime.flush()
        await wait_until(pilot, lambda: node_status(view, "src/bad.py") == FAILED, "failed")
        await pilot.press("down")
        await wait_until(pilot, lambda: nodes.highlighted_path == "src/bad.py", "cursor moved")
        await wait_until(pilot, lambda: error in unwrapped(detail_text(app)), "the error")
        assert "failed" in nodes.line_text(1)
        assert "provider rejected" in nodes.line_text(1)  # the error summary in the row
        session.end()


async def test_level_started_and_completed_drive_the_progress_model(
        runtime: ProgressRuntime, make_app: AppFactory) -> None:
    session = runtime.session("context.generate", {"path": "."})
    start_generation(session, ["a.py", "b.py", "."], levels=2)
    start_level(session, 0, ["a.py", "b.py"], levels=2)
    runtime.flush()
    app = make_app(session_id=session.session_id, clock=time.time)
    async with app.run_test(size=(120, 36)) as pilot:
        view = app.session_view
        await wait_until(pilot, lambda: "level 1 of 2" in header_text(app), "level 1 of 2")
        assert "0 / 3 nodes" in header_text(app)

        for path in ("a.py", "b.py"):
            send(session, path)
            session.emit("node_generation_completed", {**node(path), "frame_id": hex_id(path),
                                                       "duration_ms": 20})
        session.emit("level_completed", {"plan_id": "feedc0de", "level_index": 0,
                                         "completed_count": 2, "failed_count": 0,
                                         "node_count": 2, "duration_ms": 40})
        runtime.flush()
        await wait_until(pilot, lambda: "level 1 of 2 (completed)" in header_text(app),
                         "level 1 completed")
        assert "2 / 3 nodes" in header_text(app)
        assert "2 completed" in header_text(app)

        start_level(session, 1, ["."], levels=2)
        runtime.flush()
        await wait_until(pilot, lambda: "level 2 of 2" in header_text(app), "level 2 of 2")
        assert view.state is not None and view.state.current_level == 1
        assert view.selected_level == 1  # the activity list follows the running level
        assert view.query_one(NodeList).paths == ["."]
        session.end()


async def test_h_and_l_move_one_level_and_stop_at_the_ends(store: Any,
                                                           make_app: AppFactory) -> None:
    plan = tree_plan()
    session_id = write_session(store, generation_events(plan), session_id=fixed_ulid(T0, 1))
    app = make_app(session_id=session_id)
    async with app.run_test(size=(120, 36)) as pilot:
        view = app.session_view
        nodes = view.query_one(NodeList)
        await wait_until(pilot, lambda: view.finished and nodes.row_count, "session loaded")
        last = len(plan.levels) - 1
        assert view.selected_level == last  # the last level that ran
        assert list(nodes.paths) == ["."]
        await pilot.press("l")
        assert view.selected_level == last  # stops at the last level
        await pilot.press("h")
        assert sorted(nodes.paths) == sorted(plan.levels[-2])
        for _ in range(len(plan.levels) + 2):
            await pilot.press("h")
        assert view.selected_level == 0 and not view.all_levels  # no position before level 1
        assert sorted(nodes.paths) == sorted(plan.levels[0])
        await pilot.press("l")
        assert sorted(nodes.paths) == sorted(plan.levels[1])
        await pilot.press("a")  # every node, explicitly
        assert view.all_levels and nodes.row_count == plan.total_nodes
        assert "All levels" in str(view.query_one("#activity-pane").border_title)
        await pilot.press("l")  # back to one level, the one that was selected
        assert not view.all_levels and view.selected_level == 1


async def test_retry_shows_attempts_and_backoff(store: Any, make_app: AppFactory) -> None:
    plan = tree_plan(retry=frozenset({"pkg0/pkg0/module_00.py"}))
    session_id = write_session(store, generation_events(plan), session_id=fixed_ulid(T0, 1))
    app = make_app(session_id=session_id)
    async with app.run_test(size=(120, 36)) as pilot:
        view = app.session_view
        await wait_until(pilot, lambda: view.finished, "session loaded")
        for _ in range(len(plan.levels)):
            await pilot.press("h")
        assert view.query_one(NodeList).highlighted_path == "pkg0/pkg0/module_00.py"
        detail = view.query_one(NodeDetail)
        await wait_until(pilot, lambda: detail.settled, "the detail laid out")
        text = " ".join(detail_text(app).split())  # notes wrap in their column
        assert "attempt 1" in text and "read timed out" in text
        assert "backoff" in text and "250 ms" in text and "before attempt 2" in text
        assert "attempt 2" in text


async def test_interrupted_session_reads_as_interrupted(store: Any,
                                                        make_app: AppFactory) -> None:
    events = generation_events(tree_plan(stop_after_level=1))
    session_id = write_session(store, events, session_id=fixed_ulid(T0, 1),
                               status="interrupted")
    app = make_app(session_id=session_id)
    async with app.run_test(size=(120, 36)) as pilot:
        view = app.session_view
        await wait_until(pilot, lambda: view.finished, "session loaded")
        assert view.state is not None and view.state.status == "interrupted"
        assert "● interrupted" in header_text(app)


async def test_scan_and_watch_sessions_show_their_metrics(store: Any,
                                                          make_app: AppFactory) -> None:
    scan_id = write_session(store, scan_events(), session_id=fixed_ulid(T0, 1), command="scan")
    watch_id = write_session(store, watch_events(), session_id=fixed_ulid(T0 + 9, 2),
                             command="watch")
    app = make_app(session_id=scan_id)
    async with app.run_test(size=(120, 36)) as pilot:
        view = app.session_view
        metrics = view.query_one("#metrics", Static)
        await wait_until(pilot, lambda: view.finished, "scan loaded")
        text = str(metrics.content)
        for expected in ("files", "120", "directories", "14", "rehashed", "7", "changed",
                         "root id", hex_id("root")):
            assert expected in text
        view.follow(watch_id)
        await wait_until(pilot, lambda: view.finished and "Watch" in str(metrics.content),
                         "watch loaded")
        text = str(metrics.content)
        assert "batches" in text and "3" in text
        assert "modified" in text and "added" in text and "deleted" in text
        assert "src/app/handler_2_2.py" in text  # the most recent change is listed


async def test_ten_thousand_nodes_scroll_through_a_virtual_list(
        store: Any, make_app: AppFactory) -> None:
    plan = flat_plan(10_000, levels=1, concurrency=64)
    session_id = write_session(store, generation_events(plan), session_id=fixed_ulid(T0, 1))
    app = make_app(session_id=session_id)
    async with app.run_test(size=(120, 36)) as pilot:
        view = app.session_view
        nodes = view.query_one(NodeList)
        await wait_until(pilot, lambda: nodes.row_count == 10_000, "all rows", timeout=60)
        assert len(view.query("NodeList *")) == 0  # one widget, not one per node
        await pilot.press("end")  # at once: maybe before the list's next layout pass
        assert nodes.highlighted_path == plan.levels[0][-1]
        await wait_until(pilot, lambda: nodes.size.height > 0 and nodes.show_vertical_scrollbar,
                         "the list laid out")
        await wait_until(pilot, lambda: nodes.scroll_offset.y == nodes.max_scroll_y > 9_000,
                         "scrolled to the end")
        assert nodes.vertical_scrollbar.position == nodes.scroll_offset.y  # thumb at the end
        await pilot.press("pageup")
        assert nodes.cursor == 9_999 - (nodes.size.height - 1)
        top = nodes.scroll_offset.y
        assert top <= nodes.cursor < top + nodes.size.height  # the cursor stays in view


class _ListApp(App[None]):
    def compose(self) -> ComposeResult:
        yield NodeList(clock=lambda: FROZEN_NOW)


async def test_a_jump_before_the_layout_pass_still_scrolls() -> None:
    """Rows that arrive and a jump made in the same moment, before Textual lays the list out
    again (its scrollbar not decided yet): the jump scrolls all the same."""
    paths = [f"src/f{index:05d}.py" for index in range(10_000)]
    app = _ListApp()
    async with app.run_test(size=(80, 24)) as pilot:
        nodes = app.query_one(NodeList)
        await wait_until(pilot, lambda: nodes.size.height > 0, "the list laid out")
        assert not nodes.show_vertical_scrollbar
        nodes.show(paths, {})
        nodes.action_jump(-1)  # no await between: the scrollbar is still hidden here
        assert nodes.cursor == 9_999
        assert nodes.scroll_offset.y == 9_999 - nodes.size.height + 1
        await wait_until(pilot, lambda: nodes.show_vertical_scrollbar, "the scrollbar shown")
        await wait_until(pilot, lambda: nodes.scroll_offset.y == nodes.max_scroll_y,
                         "the end still shown after the layout pass")
        assert nodes.vertical_scrollbar.position == nodes.scroll_offset.y


async def test_a_burst_of_events_is_painted_in_few_frames(
        runtime: ProgressRuntime, make_app: AppFactory) -> None:
    session = runtime.session("context.generate", {"path": "."})
    runtime.flush()
    app = make_app(session_id=session.session_id, clock=time.time)
    async with app.run_test(size=(120, 36)) as pilot:
        view = app.session_view
        await wait_until(pilot, lambda: view.state is not None, "session loaded")
        paints = 0
        original = view._repaint

        def counting() -> None:
            nonlocal paints
            paints += 1
            original()

        view._repaint = counting  # type: ignore[method-assign]
        paths = [f"src/f{index}.py" for index in range(2_000)]
        start_generation(session, paths)
        start_level(session, 0, paths)
        runtime.flush()
        await wait_until(pilot, lambda: view.state is not None and len(view.state.nodes) == 2_000,
                         "every node applied")
        assert paints < 100  # 2,000+ events, coalesced into frames
        await wait_until(pilot, lambda: len(view.freshness) > 0, "freshness measured")
        session.end()


async def test_the_cursor_follows_the_nodes_in_flight_until_moved(
        runtime: ProgressRuntime, make_app: AppFactory) -> None:
    paths = [f"src/f{index:02d}.py" for index in range(60)]
    session = runtime.session("context.generate", {"path": "."})
    start_generation(session, paths)
    start_level(session, 0, paths)
    runtime.flush()
    app = make_app(session_id=session.session_id, clock=time.time)
    async with app.run_test(size=(120, 24)) as pilot:
        nodes = app.session_view.query_one(NodeList)
        await wait_until(pilot, lambda: nodes.row_count == 60, "rows listed")
        send(session, "src/f40.py")
        runtime.flush()
        await wait_until(pilot, lambda: nodes.highlighted_path == "src/f40.py", "followed")
        assert nodes.cursor == 0 and nodes.scroll_offset.y == 0  # the work in flight on top
        await pilot.press("down")
        assert nodes.highlighted_path == "src/f00.py"
        send(session, "src/f50.py")
        session.emit("provider_response_received", {
            **request("src/f40.py"), "duration_ms": 5, "input_tokens": 1, "output_tokens": 1,
            "response_chars": 1})
        runtime.flush()
        await wait_until(pilot, lambda: nodes.paths[0] == "src/f50.py", "the next request on top")
        assert nodes.highlighted_path == "src/f00.py"  # the user's choice stays
        assert nodes.paths[-1] == "src/f40.py"  # done: at the bottom
        session.end()


def iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


async def test_a_narrow_list_cuts_the_path_before_a_timer() -> None:
    """At 80×24 the list is about 44 cells wide: a retry's timer keeps its unit, the path
    gives up the cells; the queued row says for how long, not "queued" twice."""
    retrying = NodeState(path="pkg0/sub0/mod_10.py", status=RETRYING,
                         retries=(RetryInfo(attempt=2, delay_ms=2000, error="429",
                                            ts=iso(FROZEN_NOW - 7.0)),))
    queued = NodeState(path="pkg0/sub2/mod_9.py", status=QUEUED,
                       started_ts=iso(FROZEN_NOW - 7.8))
    app = _ListApp()
    async with app.run_test(size=(44, 6)) as pilot:
        nodes = app.query_one(NodeList)
        await wait_until(pilot, lambda: nodes.size.width == 44, "the list laid out")
        nodes.show([retrying.path, queued.path], {node.path: node for node in (retrying, queued)})
        assert nodes.line_text(0).rstrip().endswith("retrying retry 2 queued 5.0 s")
        assert nodes.line_text(1).split()[-4:] == ["queued", "for", "7.8", "s"]
