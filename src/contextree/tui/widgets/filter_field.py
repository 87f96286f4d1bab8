"""The filter line of a list: hidden until `/` opens it, `escape` clears and hides it.

The session view filters its activity by path with it, the history its sessions by id,
command or status; each view reacts to `Input.Changed` as usual.
"""

from __future__ import annotations

from textual.widgets import Input


class FilterField(Input):
    """An `Input` that is shown only while a filter is being typed or applies."""

    def on_mount(self) -> None:
        self.display = False

    @property
    def in_use(self) -> bool:
        """Shown or holding a filter (then `escape` clears it rather than going back)."""
        return self.display or bool(self.value)

    def open(self) -> None:
        self.display = True
        self.focus()

    def clear(self) -> None:
        """Empty it (which posts `Changed`) and hide it."""
        self.value = ""
        self.display = False
