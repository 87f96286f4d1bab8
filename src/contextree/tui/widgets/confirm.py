"""A yes/no question in a modal dialog, dismissed with the answer; and the quit question.

| Key | Action |
|---|---|
| `y` | yes |
| `n` / `escape` | no |
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ConfirmDialog(ModalScreen[bool]):
    """Ask `question`; dismiss with True for yes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n", "answer(False)", "No"),
        Binding("escape", "answer(False)", "Cancel", show=False),
    ]

    DEFAULT_CSS = """
    ConfirmDialog { align: center middle; }
    ConfirmDialog > Vertical {
        width: 64; height: auto; padding: 1 2; border: thick $warning; background: $surface;
    }
    ConfirmDialog #question { margin-bottom: 1; }
    ConfirmDialog Horizontal { height: auto; align-horizontal: right; }
    ConfirmDialog Button { margin-left: 2; }
    """

    def __init__(self, *, question: str, yes_label: str = "Yes") -> None:
        super().__init__()
        self.question = question
        self.yes_label = yes_label

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.question, id="question")
            with Horizontal():
                yield Button("No", id="no")
                yield Button(f"{self.yes_label} (y)", id="yes", variant="error")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


QUIT_LEAVE, QUIT_CANCEL, QUIT_STAY = "leave", "cancel", "stay"


class QuitDialog(ModalScreen[str]):
    """Quit while a command started here runs: leave it running, cancel it, or stay.

    | Key | Action |
    |---|---|
    | `l` | quit, leave the command running |
    | `c` | quit, cancel the command (as Ctrl-C would) |
    | `s` / `escape` | stay |
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("l", "answer('leave')", "Leave it running"),
        Binding("c", "answer('cancel')", "Cancel it"),
        Binding("s,escape", "answer('stay')", "Stay"),
    ]

    DEFAULT_CSS = """
    QuitDialog { align: center middle; }
    QuitDialog > Vertical {
        width: 72; max-width: 100%; height: auto; padding: 1 2; border: thick $warning;
        background: $surface;
    }
    QuitDialog #question { margin-bottom: 1; }
    QuitDialog Horizontal { height: auto; align-horizontal: right; }
    QuitDialog Button { margin-left: 1; }
    """

    def __init__(self, *, running: str) -> None:
        super().__init__()
        self.question = (f"{running} is still running. Quit and leave it running (the store "
                         "keeps its session), cancel it (as Ctrl-C would), or stay?")

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.question, id="question")
            with Horizontal():
                yield Button("Stay (s)", id=QUIT_STAY)
                yield Button("Leave running (l)", id=QUIT_LEAVE, variant="primary")
                yield Button("Cancel it (c)", id=QUIT_CANCEL, variant="error")

    def on_mount(self) -> None:
        self.query_one(f"#{QUIT_STAY}", Button).focus()

    def action_answer(self, answer: str) -> None:
        self.dismiss(answer)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id or QUIT_STAY)
