"""The footer: its keys follow the terminal's width, and a rebuild leaves no key behind."""

from __future__ import annotations

import gc
from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets._footer import FooterKey

from contextree.progress import EventStore
from contextree.tui.widgets.key_footer import WIDE_COLUMNS, KeyFooter, ToggleKey
from tests.tui.conftest import AppFactory, wait_until
from tests.tui.synthetic import T0, fixed_ulid, generation_events, tree_plan, write_session


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



class Toggling(App[None]):
    """A footer with one key that is shown off (`check_action` None) until `on`."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("x", "thing", "Thing")]

    def __init__(self) -> None:
        super().__init__()
        self.on = False
        self.done = 0

    def compose(self) -> ComposeResult:
        yield KeyFooter()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return True if self.on or action != "thing" else None

    def action_thing(self) -> None:
        self.done += 1


def thing_key(app: App[None]) -> ToggleKey | None:
    return next((key for key in app.query(ToggleKey) if key.description == "Thing"), None)


async def test_a_key_turning_on_is_updated_in_place_not_rebuilt() -> None:
    """A key that turns on or off is changed where it is (a rebuild mounts every key again
    and lays the screen out), and a click on it then runs its action."""
    app = Toggling()
    async with app.run_test(size=(80, 10)) as pilot:
        await wait_until(pilot, lambda: thing_key(app) is not None, "the key")
        key = thing_key(app)
        assert key is not None and not key.enabled and key.has_class("-disabled")
        app.on = True
        app.refresh_bindings()
        await wait_until(pilot, lambda: key.enabled, "the key turned on")
        assert thing_key(app) is key and not key.has_class("-disabled")
        await pilot.click(key)
        await wait_until(pilot, lambda: app.done == 1, "the action run by a click")
        app.on = False
        app.refresh_bindings()
        await wait_until(pilot, lambda: not key.enabled, "the key turned off")
        assert thing_key(app) is key and key.has_class("-disabled")


async def test_the_level_keys_are_shown_off_while_a_session_loads(
        store: EventStore, make_app: AppFactory) -> None:
    session_id = write_session(store, generation_events(tree_plan()),
                               session_id=fixed_ulid(T0, 1))
    app = make_app(auto_follow=False)
    async with app.run_test(size=(160, 40)) as pilot:
        view = app.session_view
        assert view.check_action("level", (-1,)) is False  # nothing open: not shown
        app.open_session(session_id)  # its state arrives on this loop's next turns
        assert view.state is None and view.check_action("level", (-1,)) is None
        await wait_until(pilot, lambda: view.state is not None, "the state")
        assert view.check_action("level", (-1,)) is True
