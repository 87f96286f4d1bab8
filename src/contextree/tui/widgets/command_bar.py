"""The command bar (`:`): type any `ctree` command, with completion and history.

Suggestions follow what is typed (subcommands, options, values, workspace paths — from the
click command tree). The bar does not run anything: it posts `Submitted` and the app parses
the line with the CLI's group, runs it, or hands back the one-line error with `show_error`.

| Key | Action |
|---|---|
| `tab` | complete with the first suggestion; again for the next one |
| `shift+tab` | the previous suggestion |
| `up` / `down` | earlier / later commands (kept across runs) |
| `enter` | run the command |
| `escape` | close the bar |
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Label, Static

from contextree.tui.command_history import CommandHistory
from contextree.tui.completion import Candidate, Completion

Completer = Callable[[str], Completion]
SUGGESTIONS_SHOWN = 8


class CommandBar(Vertical):
    """A one-line command prompt over the status bar; see the module docstring for keys."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "complete(1)", "Complete"),
        Binding("shift+tab", "complete(-1)", "Previous suggestion", show=False),
        Binding("up", "history(-1)", "Earlier command"),
        Binding("down", "history(1)", "Later command"),
        Binding("escape", "close", "Close"),
    ]

    DEFAULT_CSS = """
    CommandBar { height: auto; display: none; background: $surface; padding: 0 1; }
    CommandBar.-open { display: block; }
    CommandBar #suggestions { height: auto; color: $text-muted; }
    CommandBar #command-error { height: auto; color: $error; display: none; }
    CommandBar #command-error.-shown { display: block; }
    CommandBar Horizontal { height: 1; }
    CommandBar #prompt { width: 2; color: $accent; text-style: bold; }
    CommandBar Input { border: none; height: 1; padding: 0; width: 1fr; background: $surface; }
    CommandBar Input:focus { border: none; }
    """

    class Submitted(Message):
        """The user pressed enter on `line`."""

        def __init__(self, line: str) -> None:
            super().__init__()
            self.line = line

    class Closed(Message):
        """The bar was closed without running anything."""

    def __init__(self, *, history: CommandHistory, completer: Completer,
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self.history = history
        self._completer = completer
        self._completion: Completion | None = None
        self._index = -1
        self._applied: str | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="suggestions")
        yield Static("", id="command-error")
        with Horizontal():
            yield Label(":", id="prompt")
            yield Input(placeholder="a ctree command — tab completes, ↑ history",
                        id="command-input")

    # -- public API -----------------------------------------------------------------------

    @property
    def input(self) -> Input:
        return self.query_one("#command-input", Input)

    @property
    def is_open(self) -> bool:
        return self.has_class("-open")

    def open(self, line: str = "") -> None:
        self.add_class("-open")
        self.show_error(None)
        self.history.reset()
        self._set_value(line)
        self._suggest(line)
        self.input.focus()

    def close(self) -> None:
        self.remove_class("-open")
        self._completion = None

    def show_error(self, message: str | None) -> None:
        error = self.query_one("#command-error", Static)
        error.update(Text(f"✗ {message}") if message else "")
        error.set_class(bool(message), "-shown")

    # -- completion and suggestions -------------------------------------------------------

    def _set_value(self, value: str) -> None:
        self._applied = value
        self.input.value = value
        self.input.cursor_position = len(value)

    def _suggest(self, line: str, highlight: int = -1) -> None:
        completion = self._completion if highlight >= 0 and self._completion else \
            self._completer(line)
        suggestions = self.query_one("#suggestions", Static)
        suggestions.update(suggestions_text(completion.candidates, highlight))
        suggestions.display = bool(completion.candidates)

    @on(Input.Changed, "#command-input")
    def _changed(self, event: Input.Changed) -> None:
        if event.value == self._applied:
            return
        self._applied = None
        self._completion = None
        self.show_error(None)
        self._suggest(event.value)

    @on(Input.Submitted, "#command-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        line = event.value.strip()
        if not line:
            self.close()
            self.post_message(self.Closed())
            return
        self.history.add(line)
        self.post_message(self.Submitted(line))

    def action_complete(self, step: int) -> None:
        value = self.input.value
        if self._completion is None or value != self._applied:
            self._completion = self._completer(value)
            self._index = -1 if step > 0 else 0
        candidates = self._completion.candidates
        if not candidates:
            self.app.bell()
            return
        if len(candidates) == 1:  # complete: the next tab completes the next word
            new = self._completion.apply(candidates[0])
            self._completion = None
            self._set_value(new)
            self._suggest(new)
            return
        self._index = (self._index + step) % len(candidates)
        self._set_value(self._completion.apply(candidates[self._index]))
        self._suggest(self._completion.line, self._index)

    def action_history(self, step: int) -> None:
        line = self.history.previous(self.input.value) if step < 0 else self.history.next()
        if line is None:
            return
        self._completion = None
        self._set_value(line)
        self._suggest(line)

    def action_close(self) -> None:
        self.close()
        self.post_message(self.Closed())


def suggestions_text(candidates: list[Candidate], highlight: int = -1) -> Text:
    """Up to `SUGGESTIONS_SHOWN` suggestions around the highlighted one, with their help."""
    text = Text(no_wrap=True, overflow="ellipsis")
    if not candidates:
        return text
    first = max(0, min(highlight - SUGGESTIONS_SHOWN // 2,
                       len(candidates) - SUGGESTIONS_SHOWN))
    shown = candidates[first:first + SUGGESTIONS_SHOWN]
    width = max(len(candidate.value) for candidate in shown)
    for offset, candidate in enumerate(shown):
        index = first + offset
        if offset:
            text.append("\n")
        style = "reverse bold" if index == highlight else "bold"
        text.append(f" {candidate.value:<{width}} ", style=style)
        if candidate.help:
            text.append(f"  {candidate.help}", style="dim")
    hidden = len(candidates) - len(shown)
    if hidden > 0:
        text.append(f"\n … {hidden} more", style="dim")
    return text
