"""Replay: a stored session re-fed through the reducer at a speed, with pause and step."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from contextree.cli.app import run
from contextree.progress import EventStore
from contextree.progress.reducer import replay
from contextree.tui.feeds import ReplayFeed
from tests.tui.conftest import AppFactory, wait_until
from tests.tui.synthetic import T0, fixed_ulid, generation_events, tree_plan, write_session


@pytest.fixture
def session_id(store: EventStore) -> str:
    plan = tree_plan(retry=frozenset({"pkg0/pkg0/module_01.py"}))
    return write_session(store, generation_events(plan), session_id=fixed_ulid(T0, 1))


async def test_space_pauses_and_n_steps_one_event(store: EventStore, make_app: AppFactory,
                                                  session_id: str) -> None:
    app = make_app(replay_id=session_id, speed=0.01)
    async with app.run_test(size=(120, 36)) as pilot:
        view = app.session_view
        feed = view.replay_feed
        assert feed is not None
        await wait_until(pilot, lambda: view.state is not None and view.state.event_count > 0,
                         "the first events")
        await pilot.press("space")
        assert feed.paused
        await wait_until(pilot, lambda: view.state is not None
                         and view.state.event_count == feed.position, "paused and caught up")
        before = feed.position
        await pilot.press("n")
        await wait_until(pilot, lambda: view.state is not None
                         and view.state.event_count == before + 1, "one more event")
        await pilot.press("n", "n")
        await wait_until(pilot, lambda: view.state is not None
                         and view.state.event_count == before + 3, "two more events")
        assert feed.position == before + 3
        assert "paused" in view.mode_text()
        await pilot.press("plus")
        assert feed.speed > 0.01


async def test_replay_at_speed_ends_in_the_stored_final_state(
        store: EventStore, make_app: AppFactory, session_id: str) -> None:
    app = make_app(replay_id=session_id, speed=64.0)
    async with app.run_test(size=(120, 36)) as pilot:
        view = app.session_view
        await wait_until(pilot, lambda: view.finished, "replay finished")
        expected = replay(store.read_events(session_id), store.get_session(session_id))
        assert view.state is not None and view.state.to_json() == expected.to_json()
        assert app.query_one("StatusBar").session.startswith(session_id[:10])


def test_replay_paces_by_the_original_timing_with_gaps_capped(store: EventStore) -> None:
    session_id = write_session(store, [(0, "queue_stats", {"pending": 1}),
                                       (60_000, "queue_stats", {"pending": 2})],
                               session_id=fixed_ulid(T0, 1))
    woke = threading.Event()
    feed = ReplayFeed(store, session_id, wake=woke.set, speed=1.0, max_gap_s=0.2, paused=True)
    feed.start()
    try:
        events = []
        while len(events) < 4:  # session_started, 2 × queue_stats, session_ended
            assert woke.wait(5)
            woke.clear()
            events += feed.take().events
            feed.step()
        assert [event.type for event in events] == [
            "session_started", "queue_stats", "queue_stats", "session_ended"]
        # a minute-long pause in the original becomes at most max_gap_s of replay time
        assert feed._timeline[2] - feed._timeline[1] == pytest.approx(0.2)
        assert feed.now() == pytest.approx(feed._real[-1])
    finally:
        feed.stop()


@pytest.mark.parametrize(("args", "message"), [
    (["tui", "--speed", "2"], "--speed applies to --replay"),
    (["tui", "--list", "--session", "last"], "cannot be combined"),
])
def test_tui_options_are_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                 args: list[str], message: str) -> None:
    assert run(["-C", str(tmp_path), *args]) == 1
    assert message in capsys.readouterr().err


def test_tui_without_a_store_says_how_to_make_one(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["-C", str(tmp_path), "tui"]) == 1
    assert "ctree init" in capsys.readouterr().err
