"""The footer: the keys that always work first, then the current view's, at any width.

Textual's footer lists the focused widget's keys first and the app's last, so a narrow
terminal cut off `:`, `?` and `q`. This one puts the pinned actions first (`PINNED`, in that
order; the view keys `1`–`4` as one compact group; a replay's Pause / Resume right after
them), then every other shown binding in Textual's order, and is compact below
`WIDE_COLUMNS`: what does not fit is what matters least. A key that only turns on or off
changes in place; any other change rebuilds the keys.
A `labeller` may say what a key does now (`Resume` for `Pause` while a replay is paused).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey, FooterLabel, KeyGroup

PINNED = ("command_bar", "toggle_help", "quit", "cancel_command", "show_view", "toggle_pause")
"""Actions shown before any other, in this order: the global ones, then a replay's
Pause / Resume (shown only in a replay, where it is the key that matters most)."""
WIDE_COLUMNS = 140
Labeller = Callable[[Binding], str]
"""What a binding says now (e.g. `Resume` for `Pause` while paused)."""
Shown = tuple[tuple[Binding, bool, str, str], ...]
"""The shown bindings, each with whether it is enabled, its tooltip and its label now."""


class ToggleKey(FooterKey):
    """A footer key that can be turned on or off where it is (Textual's is fixed at birth)."""

    @property
    def enabled(self) -> bool:
        return not self._disabled

    def set_enabled(self, enabled: bool) -> None:
        if enabled != self.enabled:
            self._disabled = not enabled  # what a click checks
            self.set_class(not enabled, "-disabled")


class KeyFooter(Footer):
    """A `Footer` whose first keys are the global ones; see the module docstring."""

    DEFAULT_CSS = """
    KeyFooter FooterLabel { padding: 0 1 0 0; margin: 0; }
    """

    def __init__(self, *, labeller: Labeller | None = None) -> None:
        super().__init__()
        self._labeller = labeller
        self._composed: Shown | None = None

    def on_resize(self) -> None:
        self.compact = self.size.width < WIDE_COLUMNS

    def bindings_changed(self, screen: Screen[object]) -> None:
        """Rebuild the keys after the next refresh, and only if what they show changed:
        the screen says "bindings changed" on every focus move and every `refresh_bindings`,
        and a rebuild mounts a widget per key (a long frame while a session streams)."""
        self._bindings_ready = True
        if screen.app.app_focus and self.is_attached and screen is self.screen:
            self.call_after_refresh(self._recompose_if_changed)

    async def _recompose_if_changed(self) -> None:
        if not self.is_attached:
            return
        shown = self._shown()
        if shown == self._composed:
            return
        if self._composed is not None and _without_enabled(shown) == \
                _without_enabled(self._composed):
            self._set_enabled(shown)  # a key turned on or off: no rebuild, no layout pass
            return
        await self.recompose()

    def _set_enabled(self, shown: Shown) -> None:
        enabled = {(binding.key, binding.action): on for binding, on, _, _ in shown}
        for key in self.query(ToggleKey):
            key.set_enabled(enabled.get((key.key, key.action), key.enabled))
        self._composed = shown

    def _shown(self) -> Shown:
        """The shown bindings with whether each is enabled, its tooltip and its label now."""
        return tuple((binding, enabled, tooltip, self._label(binding))
                     for (_, binding, enabled, tooltip) in self.screen.active_bindings.values()
                     if binding.show)

    def _label(self, binding: Binding) -> str:
        return self._labeller(binding) if self._labeller else binding.description

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        shown = self._shown()
        self._composed = shown
        by_action: dict[str, list[tuple[Binding, bool, str]]] = {}
        for binding, enabled, tooltip, _ in shown:
            by_action.setdefault(binding.action, []).append((binding, enabled, tooltip))
        self.styles.grid_size_columns = len(by_action)
        yield from self._keys(ordered(by_action))

    def _keys(self, groups: list[list[tuple[Binding, bool, str]]]) -> Iterator[
            FooterKey | KeyGroup | FooterLabel]:
        index = 0
        while index < len(groups):
            binding, enabled, tooltip = groups[index][0]
            group = binding.group
            run = [groups[index]]
            while group is not None and index + len(run) < len(groups) \
                    and groups[index + len(run)][0][0].group is group:
                run.append(groups[index + len(run)])
            index += len(run)
            if group is None or len(run) == 1:
                yield self._key(binding, enabled, tooltip, self._label(binding))
                continue
            with KeyGroup(classes="-compact" if group.compact else ""):
                for member in run:
                    key, key_enabled, key_tooltip = member[0]
                    yield self._key(key, key_enabled, key_tooltip or key.description, "",
                                    classes="-grouped")
            yield FooterLabel(group.description)

    def _key(self, binding: Binding, enabled: bool, tooltip: str, description: str,
             classes: str = "") -> ToggleKey:
        key = ToggleKey(binding.key, self.app.get_key_display(binding), description,
                        binding.action, disabled=not enabled, tooltip=tooltip, classes=classes)
        key.compact = self.compact
        return key

    def watch_compact(self, compact: bool) -> None:
        """Pass the width's style on to the keys. (Not `data_bind`: a bound key registers
        a watcher on this footer that only a change of `compact` would drop, so every key of
        every rebuild — each view switch, each changed binding — stayed alive with its
        widgets and caches: ~0.2 MB a rebuild, walked by every full collection.)"""
        for key in self.query(FooterKey):
            key.compact = compact


def _without_enabled(shown: Shown) -> tuple[tuple[Binding, str, str], ...]:
    return tuple((binding, tooltip, label) for binding, _, tooltip, label in shown)


def ordered(by_action: dict[str, list[tuple[Binding, bool, str]]]
            ) -> list[list[tuple[Binding, bool, str]]]:
    """The pinned actions first, in `PINNED` order, then the others as they came."""
    def rank(item: tuple[int, str]) -> tuple[int, int]:
        position, action = item
        name = action.split("(", 1)[0]
        return (PINNED.index(name) if name in PINNED else len(PINNED), position)

    actions = [action for _, action in sorted(enumerate(by_action), key=rank)]
    return [by_action[action] for action in actions]
