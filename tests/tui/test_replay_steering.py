"""Replay you can steer: seek ±10 %, to the start and the end, restart; the status bar shows
the last applied event and the footer says Resume while paused."""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets._footer import FooterKey

from contextree.progress import EventStore
from contextree.tui.app import CtreeApp
from contextree.tui.widgets.key_footer import KeyFooter
from contextree.tui.widgets.status_bar import StatusBar
from tests.tui.conftest import AppFactory, wait_until
from tests.tui.synthetic import T0, fixed_ulid, generation_events, tree_plan, write_session


@pytest.fixture
def session_id(store: EventStore) -> str:
    return write_session(store, generation_events(tree_plan()), session_id=fixed_ulid(T0, 1))


def caught_up(app: CtreeApp) -> bool:
    """The view has applied every event the feed handed over."""
    view = app.session_view
    feed = view.replay_feed
    return feed is not None and view.state is not None \
        and view.state.event_count == feed.position


def footer_labels(app: CtreeApp) -> dict[str, str]:
    return {key.key: key.description for key in app.query_one(KeyFooter).query(FooterKey)}


async def paused_replay(pilot: Any, app: CtreeApp) -> None:
    view = app.session_view
    await wait_until(pilot, lambda: view.state is not None and view.state.event_count > 0,
                     "the first events")
    await pilot.press("space")
    await wait_until(pilot, lambda: caught_up(app), "paused and caught up")


async def test_seek_moves_ten_percent_and_to_either_end(store: EventStore, make_app: AppFactory,
                                                        session_id: str) -> None:
    events = store.read_events(session_id)
    app = make_app(replay_id=session_id, speed=0.01)
    async with app.run_test(size=(120, 36)) as pilot:
        await paused_replay(pilot, app)
        feed = app.session_view.replay_feed
        assert feed is not None and feed.total == len(events)
        before = feed.position
        await pilot.press("right_square_bracket")
        step = round(0.1 * len(events))
        await wait_until(pilot, lambda: feed.position == before + step and caught_up(app),
                         "ten per cent further")
        await pilot.press("left_square_bracket", "left_square_bracket")
        target = max(0, before - step)
        await wait_until(pilot, lambda: feed.position == target and caught_up(app),
                         "twenty per cent back (a fresh state, replayed up to there)")
        await pilot.press("right_curly_bracket")
        await wait_until(pilot, lambda: app.session_view.finished and caught_up(app),
                         "the end")
        assert feed.position == len(events)
        view_state = app.session_view.state
        assert view_state is not None and view_state.status == "completed"
        await pilot.press("left_curly_bracket")
        await wait_until(pilot, lambda: feed.position == 0 and caught_up(app)
                         and not app.session_view.finished, "the start")


async def test_restart_plays_again_from_the_first_event(store: EventStore,
                                                        make_app: AppFactory,
                                                        session_id: str) -> None:
    app = make_app(replay_id=session_id, speed=0.01)
    async with app.run_test(size=(120, 36)) as pilot:
        await paused_replay(pilot, app)
        await pilot.press("right_curly_bracket")
        view = app.session_view
        await wait_until(pilot, lambda: view.finished, "the end")
        await pilot.press("R")
        feed = view.replay_feed
        assert feed is not None
        await wait_until(pilot, lambda: not view.finished and not feed.paused
                         and feed.position < feed.total, "playing again")


async def test_status_bar_shows_the_last_applied_event_and_footer_says_resume(
        store: EventStore, make_app: AppFactory, session_id: str) -> None:
    events = store.read_events(session_id)
    app = make_app(replay_id=session_id, speed=0.01)
    async with app.run_test(size=(120, 36)) as pilot:
        await paused_replay(pilot, app)
        feed = app.session_view.replay_feed
        assert feed is not None
        await wait_until(pilot, lambda: footer_labels(app).get("space") == "Resume",
                         "the footer saying Resume")
        await pilot.press("n")
        await wait_until(pilot, lambda: caught_up(app) and feed.position >= 2, "a step")
        last = events[feed.position - 1]
        status = app.query_one(StatusBar)
        await wait_until(pilot, lambda: f"#{last.seq} {last.type}" in status.replay,
                         "the last applied event")
        assert status.replay.startswith(f"paused {feed.position}/{len(events):,}")
        await pilot.press("space")
        await wait_until(pilot, lambda: footer_labels(app).get("space") == "Pause",
                         "the footer saying Pause again")


async def test_replay_keys_show_only_while_a_replay_is_on_screen(
        store: EventStore, make_app: AppFactory, session_id: str) -> None:
    app = make_app(session_id=session_id)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: app.session_view.finished, "the session")
        assert app.check_action("seek", (0.1,)) is False
        assert "R" not in footer_labels(app)


async def test_the_footer_keeps_the_global_keys_first_at_80_columns(
        make_app: AppFactory) -> None:
    app = make_app(auto_follow=False, view="history")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.query_one(KeyFooter).query(FooterKey),
                         "the footer")
        keys = [key.key for key in app.query_one(KeyFooter).query(FooterKey)]
        assert keys[:3] == ["colon", "question_mark", "q"]
        assert keys[3:7] == ["1", "2", "3", "4"]
        assert "d" in keys and "p" in keys  # then the view's own
