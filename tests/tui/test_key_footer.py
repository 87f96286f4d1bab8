"""The footer: its keys follow the terminal's width, and a rebuild leaves no key behind."""

from __future__ import annotations

import gc

from textual.widgets._footer import FooterKey

from contextree.tui.widgets.key_footer import WIDE_COLUMNS, KeyFooter
from tests.tui.conftest import AppFactory, wait_until


def keys_compact(footer: KeyFooter) -> set[bool]:
    return {key.compact for key in footer.query(FooterKey)}


async def test_keys_are_compact_below_the_wide_width_and_follow_a_resize(
        make_app: AppFactory) -> None:
    app = make_app(auto_follow=False)
    async with app.run_test(size=(80, 24)) as pilot:
        footer = app.query_one(KeyFooter)
        await wait_until(pilot, lambda: keys_compact(footer) == {True}, "compact keys at 80")
        assert footer.has_class("-compact")
        await pilot.resize_terminal(WIDE_COLUMNS + 20, 40)
        await wait_until(pilot, lambda: keys_compact(footer) == {False}, "wide keys")
        assert not footer.has_class("-compact")
        await pilot.press("4")  # a rebuild at the wide width makes wide keys
        await wait_until(pilot, lambda: "Mark" in {key.description
                                                   for key in footer.query(FooterKey)},
                         "the history's keys")
        assert keys_compact(footer) == {False}


async def test_switching_views_leaves_no_footer_key_alive(make_app: AppFactory) -> None:
    """Every view switch rebuilds the footer's keys; the old ones must be freed, not kept by
    a watcher on the footer (they were: ~0.2 MB a switch, for as long as the TUI ran)."""
    app = make_app(auto_follow=False)
    async with app.run_test(size=(120, 36)) as pilot:
        footer = app.query_one(KeyFooter)
        for _ in range(15):
            for view in "124":
                await pilot.press(view)
                await wait_until(pilot, lambda view=view: app.current_view == {
                    "1": "dashboard", "2": "session", "4": "history"}[view], "the view")
        await pilot.press("1")
        await wait_until(pilot, lambda: "Mark" not in {key.description
                                                       for key in footer.query(FooterKey)},
                         "the dashboard's keys")
        await pilot.pause()
        gc.collect()
        alive = [obj for obj in gc.get_objects() if isinstance(obj, FooterKey)]
        shown = list(footer.query(FooterKey))
        assert len(alive) <= len(shown) + 20, (
            f"{len(alive)} footer keys alive, {len(shown)} shown: rebuilt keys were kept")
