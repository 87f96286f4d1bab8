"""The filtered history and the diff of two sessions, at 80×24, 120×40 and 200×50.

Same data, frozen clock and fixed ids as `test_snapshots`; update with `--snapshot-update`
after looking at the SVGs.
"""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from contextree.progress import EventStore
from contextree.tui.views.history_diff import DiffScreen
from tests.tui.conftest import AppFactory, wait_until, wait_until_steady
from tests.tui.synthetic import T0, fixed_ulid, generation_events, tree_plan, write_session
from tests.tui.test_snapshots import SnapCompare
from tests.tui.test_snapshots import sessions as sessions  # the fixture
from tests.tui.test_snapshots_sizes import SIZES


def history_keys(*keys: str, rows: int) -> Any:
    """Wait for `rows` sessions in the snapshot, press `keys`, wait until the screen settles."""

    async def run_before(pilot: Pilot[Any]) -> None:
        app: Any = pilot.app
        await wait_until(pilot, lambda: app.history.snapshot is not None
                         and len(app.history.snapshot.rows) == rows, "the snapshot")
        await pilot.press(*keys)
        if "c" in keys:
            await wait_until(pilot, lambda: isinstance(app.screen, DiffScreen), "the diff")
        await wait_until_steady(pilot, "the history")

    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_history_filtered_and_marked_at(size: tuple[int, int], snap_compare: SnapCompare,
                                        make_app: AppFactory, sessions: dict[str, str]) -> None:
    # today's generations only, the failed one marked
    keys = ("t", "slash", *"generate", "enter", "down", "m")
    assert snap_compare(make_app(view="history"), terminal_size=size,
                        run_before=history_keys(*keys, rows=4))


@pytest.fixture
def two_generations(store: EventStore) -> tuple[str, str]:
    """A full generation, then one where `pkg0/` was up to date, a node failed (its
    ancestors skipped), another was retried, and the provider was slower."""
    first = tree_plan()
    reused = [path for level in first.levels for path in level
              if path == "pkg0" or path.startswith("pkg0/")]
    second = tree_plan(skipped=reused, fail=frozenset({"pkg1/pkg2/module_03.py"}),
                       retry=frozenset({"pkg2/pkg0/module_01.py"}), latency_ms=60)
    return (write_session(store, generation_events(first), session_id=fixed_ulid(T0, 1)),
            write_session(store, generation_events(second), session_id=fixed_ulid(T0 + 600, 2),
                          start_s=T0 + 600, status="failed", error="1 node failed"))


@pytest.mark.parametrize("size", SIZES)
def test_history_diff_at(size: tuple[int, int], snap_compare: SnapCompare,
                         make_app: AppFactory, two_generations: tuple[str, str]) -> None:
    assert snap_compare(make_app(view="history"), terminal_size=size,
                        run_before=history_keys("down", "m", "up", "c", rows=2))
