"""A modal screen showing one box over the app: centred, a rounded border with a bold title
and a muted subtitle, closed by its `close` action.

The help, a command's output, a node's error and the diff of two sessions are such boxes. Each
composes one container with the class `modal-box` and sets its size (and, for an error, its
border's colour) in its own CSS.
"""

from __future__ import annotations

from textual.screen import ModalScreen

BOX_CLASS = "modal-box"


class BoxScreen(ModalScreen[None]):
    """A centred box; a subclass composes it (`classes=BOX_CLASS`) and sizes it."""

    DEFAULT_CSS = """
    BoxScreen { align: center middle; }
    BoxScreen > .modal-box {
        padding: 0 1; border: round $accent; border-title-style: bold; background: $surface;
        border-subtitle-color: $text-muted;
    }
    """

    def action_close(self) -> None:
        self.dismiss(None)
