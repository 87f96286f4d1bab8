"""The session view as a live monitor: work in flight first, sort and filter, failures found,
every node listed, levels that stop at the ends, errors readable in full, any width."""

from __future__ import annotations

import time
from typing import Any

import pytest
from textual.widgets import Input, Static
from textual.widgets._footer import FooterKey

from contextree.progress import ProgressRuntime
from contextree.progress.state import FAILED, RETRYING, SKIPPED
from contextree.tui.app import CtreeApp
from contextree.tui.format import format_ms, ts_epoch
from contextree.tui.widgets.error_screen import ErrorScreen, error_report
from contextree.tui.widgets.node_detail import LABEL_WIDTH, NodeDetail
from contextree.tui.widgets.node_list import NodeList
from tests.tui.conftest import AppFactory, wait_until
from tests.tui.synthetic import (
    T0,
    fixed_ulid,
    generation_events,
    scan_events,
    tree_plan,
    write_session,
)
from tests.tui.test_session_view import (
    detail_text,
    header_text,
    node,
    node_status,
    request,
    send,
    start_generation,
    start_level,
)

FAILING = "pkg1/pkg2/module_03.py"
SECOND_FAILING = "pkg2/pkg0/module_01.py"
UP_TO_DATE = "pkg3/pkg3/module_05.py"


def failed_run(store: Any, **options: Any) -> str:
    plan = tree_plan(fail=frozenset({FAILING, SECOND_FAILING}), skipped=[UP_TO_DATE])
    return write_session(store, generation_events(plan), session_id=fixed_ulid(T0, 1),
                         **options)


def nodes_of(app: CtreeApp) -> NodeList:
    return app.session_view.query_one(NodeList)


def mixed_level(session: Any) -> list[str]:
    """One level with a node of every kind: done, failed, waiting, sending, queued."""
    paths = ["a/done.py", "b/failed.py", "c/queued.py", "d/waiting.py", "e/sending.py"]
    start_generation(session, paths)
    start_level(session, 0, paths)
    send(session, "a/done.py")
    session.emit("provider_response_received", {**request("a/done.py"), "duration_ms": 30,
                                                "input_tokens": 1, "output_tokens": 1,
                                                "response_chars": 1})
    session.emit("node_generation_completed", {**node("a/done.py"), "frame_id": "f" * 32,
                                               "duration_ms": 40})
    session.emit("node_generation_failed", {**node("b/failed.py"), "error": "boom",
                                            "duration_ms": 5})
    send(session, "d/waiting.py")
    session.emit("request_processing", {**request("e/sending.py"), "queue_wait_ms": 1})
    return paths


async def test_rows_in_flight_come_first_then_failures_then_done(
        runtime: ProgressRuntime, make_app: AppFactory) -> None:
    session = runtime.session("context.generate", {"path": "."})
    mixed_level(session)
    runtime.flush()
    app = make_app(session_id=session.session_id, clock=time.time)
    async with app.run_test(size=(120, 30)) as pilot:
        nodes = nodes_of(app)
        await wait_until(pilot, lambda: nodes.row_count == 5, "rows listed")
        await wait_until(pilot, lambda: node_status(app.session_view, "e/sending.py")
                         == "sending", "every event applied")
        assert list(nodes.paths) == ["d/waiting.py", "e/sending.py", "c/queued.py",
                                     "b/failed.py", "a/done.py"]
        assert nodes.highlighted_path == "d/waiting.py"  # follows the work
        sending_row = nodes.line_text(1).split()
        assert sending_row[-1] == "sending" and sending_row.count("sending") == 1  # e/sending.py
        session.end()


async def test_s_cycles_the_order_and_f_shows_failures_only(
        runtime: ProgressRuntime, make_app: AppFactory) -> None:
    session = runtime.session("context.generate", {"path": "."})
    paths = mixed_level(session)
    runtime.flush()
    app = make_app(session_id=session.session_id, clock=time.time)
    async with app.run_test(size=(120, 30)) as pilot:
        view = app.session_view
        nodes = nodes_of(app)
        await wait_until(pilot, lambda: node_status(view, "e/sending.py") == "sending",
                         "every event applied")
        await pilot.press("s")
        assert view.choice.order == "path" and list(nodes.paths) == sorted(paths)
        assert "by path" in str(view.query_one("#activity-pane").border_title)
        await pilot.press("s")
        assert view.choice.order == "duration"
        # longest first: the running ones by their time so far, then 40 ms, then 5 ms
        assert list(nodes.paths)[-2:] == ["a/done.py", "b/failed.py"]
        await pilot.press("s")
        assert view.choice.order == "status" and nodes.paths[0] == "d/waiting.py"
        await pilot.press("f")
        assert list(nodes.paths) == ["b/failed.py"]
        await pilot.press("f")
        assert nodes.row_count == 5
        session.end()


async def test_slash_filters_by_path_and_escape_clears(
        runtime: ProgressRuntime, make_app: AppFactory) -> None:
    session = runtime.session("context.generate", {"path": "."})
    mixed_level(session)
    runtime.flush()
    app = make_app(session_id=session.session_id, clock=time.time)
    async with app.run_test(size=(120, 30)) as pilot:
        view = app.session_view
        nodes = nodes_of(app)
        await wait_until(pilot, lambda: nodes.row_count == 5, "rows listed")
        await pilot.press("slash")
        field = view.query_one("#filter", Input)
        assert field.display and field.has_focus
        await pilot.press("F", "a", "i", "l")  # case does not matter
        await wait_until(pilot, lambda: list(nodes.paths) == ["b/failed.py"], "filtered")
        assert "1 of 5 nodes" in str(view.query_one("#activity-pane").border_title)
        await pilot.press("escape")
        await wait_until(pilot, lambda: nodes.row_count == 5, "filter cleared")
        assert not field.display and nodes.has_focus and view.choice.query == ""
        await pilot.press("escape")  # no filter left: escape goes back as everywhere
        session.end()


async def test_an_ended_run_with_failures_opens_on_its_first_failure(
        store: Any, make_app: AppFactory) -> None:
    session_id = failed_run(store, status="failed", error="2 nodes failed")
    app = make_app(session_id=session_id)
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.session_view
        nodes = nodes_of(app)
        detail = view.query_one(NodeDetail)
        await wait_until(pilot, lambda: view.finished and nodes.highlighted_path == FAILING
                         and detail.settled, "landed on the first failure, the detail shown")
        assert view.selected_level == 0
        assert "✗ failed" in detail_text(app)
        assert "(completed)" not in header_text(app)
        assert "· failed" in header_text(app)


@pytest.mark.parametrize(("status", "error", "expected"), [
    ("failed", "cancelled", "cancelled"),
    ("interrupted", None, "interrupted"),
    ("completed", None, "failed"),  # completed with failed nodes reads as failed
])
async def test_the_header_names_how_a_run_ended(store: Any, make_app: AppFactory, status: str,
                                                error: str | None, expected: str) -> None:
    plan = tree_plan(fail=frozenset({FAILING}))
    session_id = write_session(store, generation_events(plan), session_id=fixed_ulid(T0, 1),
                               status=status, error=error)
    app = make_app(session_id=session_id)
    async with app.run_test(size=(120, 30)) as pilot:
        view = app.session_view
        await wait_until(pilot, lambda: view.finished, "loaded")
        await wait_until(pilot, lambda: f"· {expected}" in header_text(app), expected)
        assert "(completed)" not in header_text(app)


async def test_skipped_nodes_are_listed_in_their_level_with_the_reason(
        store: Any, make_app: AppFactory) -> None:
    session_id = failed_run(store)
    app = make_app(session_id=session_id)
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.session_view
        nodes = nodes_of(app)
        await wait_until(pilot, lambda: view.finished, "loaded")
        await pilot.press("l")  # level 2: the directories, pkg1/pkg2 skipped (a child failed)
        assert view.selected_level == 1
        assert "pkg1/pkg2" in nodes.paths
        row = nodes.line_text(list(nodes.paths).index("pkg1/pkg2"))
        assert "skipped" in row and "a child failed" in row
        assert view.state is not None and view.state.nodes["pkg1/pkg2"].status == SKIPPED
        for _ in range(4):
            await pilot.press("l")
        assert nodes.paths == ["."]  # the root too: its level is listed, not empty
        await pilot.press("a")  # up to date before the run: in no level, listed in all
        index = list(nodes.paths).index(UP_TO_DATE)
        assert "up to date" in nodes.line_text(index)


async def test_a_retrying_row_counts_down_then_shows_its_time_queued(
        runtime: ProgressRuntime, make_app: AppFactory) -> None:
    session = runtime.session("context.generate", {"path": "."})
    start_generation(session, ["src/slow.py"])
    start_level(session, 0, ["src/slow.py"])
    send(session, "src/slow.py")
    session.emit("provider_request_failed", {**request("src/slow.py"), "duration_ms": 9,
                                             "error": "HTTP 429", "error_kind": "rate_limit",
                                             "status_code": 429, "retryable": True})
    session.emit("provider_request_retrying", {**request("src/slow.py"), "attempt": 2,
                                               "delay_ms": 5000, "error": "HTTP 429"})
    runtime.flush()
    now = [0.0]
    app = make_app(session_id=session.session_id, clock=lambda: now[0])
    async with app.run_test(size=(120, 30)) as pilot:
        view = app.session_view
        nodes = nodes_of(app)
        await wait_until(pilot, lambda: node_status(view, "src/slow.py") == RETRYING, "retry")
        assert view.state is not None
        retried_at = ts_epoch(view.state.nodes["src/slow.py"].retries[-1].ts)
        assert retried_at is not None
        now[0] = retried_at + 1.0
        await wait_until(pilot, lambda: "retry 2 in 4.0 s" in nodes.line_text(0), "countdown")
        now[0] = retried_at + 7.5
        await wait_until(pilot, lambda: "retry 2 queued 2.5 s" in nodes.line_text(0),
                         "time queued after the backoff")
        await wait_until(pilot, lambda: "queued 2.5 s" in detail_text(app), "detail ticks")
        session.end()


async def test_levels_move_the_same_in_a_replay(store: Any, make_app: AppFactory) -> None:
    plan = tree_plan()
    session_id = write_session(store, generation_events(plan), session_id=fixed_ulid(T0, 1))
    app = make_app(replay_id=session_id, speed=256.0)
    async with app.run_test(size=(120, 30)) as pilot:
        view = app.session_view
        await wait_until(pilot, lambda: view.finished, "replayed to the end")
        assert view.selected_level == len(plan.levels) - 1
        for _ in range(len(plan.levels) + 1):
            await pilot.press("h")
        assert view.selected_level == 0 and not view.all_levels
        for _ in range(len(plan.levels) + 1):
            await pilot.press("l")
        assert view.selected_level == len(plan.levels) - 1


async def test_c_returns_to_the_running_level(runtime: ProgressRuntime,
                                              make_app: AppFactory) -> None:
    session = runtime.session("context.generate", {"path": "."})
    start_generation(session, ["a.py", "b.py", "."], levels=2)
    start_level(session, 0, ["a.py", "b.py"], levels=2)
    for path in ("a.py", "b.py"):
        send(session, path)
        session.emit("node_generation_completed", {**node(path), "frame_id": "f" * 32,
                                                   "duration_ms": 20})
    start_level(session, 1, ["."], levels=2)
    runtime.flush()
    app = make_app(session_id=session.session_id, clock=time.time)
    async with app.run_test(size=(120, 30)) as pilot:
        view = app.session_view
        await wait_until(pilot, lambda: view.selected_level == 1, "following level 2")
        await pilot.press("h")
        assert view.selected_level == 0
        assert "following" not in str(view.query_one("#activity-pane").border_title)
        await pilot.press("c")
        assert view.selected_level == 1
        assert "following" in str(view.query_one("#activity-pane").border_title)
        assert "Follow" in footer_keys(app)
        session.end()  # nothing runs any more: c leaves the footer
        await wait_until(pilot, lambda: view.finished, "the end")
        await wait_until(pilot, lambda: "Follow" not in footer_keys(app)
                         and "Level ←" in footer_keys(app), "c off the footer, h still on it")


def footer_keys(app: CtreeApp) -> set[str]:
    return {key.description for key in app.query(FooterKey)}


async def test_enter_opens_the_full_error_and_y_copies_it(store: Any,
                                                         make_app: AppFactory) -> None:
    session_id = failed_run(store)
    app = make_app(session_id=session_id)
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.session_view
        await wait_until(pilot, lambda: nodes_of(app).highlighted_path == FAILING, "landed")
        failed = view.state.nodes[FAILING] if view.state is not None else None
        assert failed is not None and failed.status == FAILED and failed.error
        await pilot.press("y")
        assert app.clipboard == error_report(failed)
        assert failed.error in app.clipboard
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ErrorScreen), "error screen")
        shown = str(app.screen.query_one("#error-text", Static).content)
        assert failed.error in shown and "attempt 1" in shown
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, ErrorScreen), "closed")
        await pilot.press("end")  # a completed row: enter and e open nothing
        await pilot.press("e")
        assert not isinstance(app.screen, ErrorScreen)


async def test_the_detail_wraps_an_error_under_its_label(store: Any,
                                                         make_app: AppFactory) -> None:
    session_id = failed_run(store)
    app = make_app(session_id=session_id)
    async with app.run_test(size=(80, 24)) as pilot:
        detail = app.session_view.query_one(NodeDetail)
        await wait_until(pilot, lambda: nodes_of(app).highlighted_path == FAILING
                         and detail.settled, "landed, the detail laid out")
        lines = detail_text(app).splitlines()
        start = next(index for index, line in enumerate(lines) if line.startswith("error"))
        continuation = lines[start + 1:]
        assert continuation, "a long error wraps"
        assert all(line.startswith(" " * LABEL_WIDTH) for line in continuation), lines
        width = detail.scrollable_content_region.width
        assert all(len(line.rstrip()) <= width for line in lines), (width, lines)


@pytest.mark.parametrize(("size", "pane"), [((80, 24), False), ((200, 50), True)])
async def test_below_140_columns_metrics_go_to_the_header_and_numbers_stay_whole(
        store: Any, make_app: AppFactory, size: tuple[int, int], pane: bool) -> None:
    events = list(scan_events()) + [(offset + 500, kind, data) for offset, kind, data
                                    in generation_events(tree_plan())]
    session_id = write_session(store, events, session_id=fixed_ulid(T0, 1))
    app = make_app(session_id=session_id)
    async with app.run_test(size=size) as pilot:
        view = app.session_view
        nodes = nodes_of(app)
        await wait_until(pilot, lambda: view.finished and nodes.row_count, "loaded")
        assert view.query_one("#metrics-pane").display is pane
        assert ("scan 120 files" in header_text(app)) is not pane
        await pilot.press("h", "h", "h")  # the files: durations in the last column
        state = view.state
        assert state is not None
        for index in range(min(nodes.row_count, 10)):
            duration = state.nodes[nodes.paths[index]].duration_ms
            assert duration is not None
            assert format_ms(duration) in nodes.line_text(index)
