"""The keys of the TUI, read from the bindings themselves (`?`): the current view's first.

`help_sections(app, current=…)` lists the current view's keys (its own and its widgets'
`BINDINGS`, then Enter and the mouse), the keys that work everywhere, the command bar's and
the dialogs', then the other views': a key added to any of them appears here with no list to
keep up to date. Keys of the same action are shown together. Textual's own widgets' keys
(tables, trees, text input) are the usual ones and are not listed.

| Key | Action |
|---|---|
| `escape` / `q` / `?` | close |
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.widgets import ContentSwitcher, Static

from contextree.tui.widgets.box_screen import BOX_CLASS, BoxScreen

HelpRow = tuple[str, str]
HelpSection = tuple[str, list[HelpRow]]


class HelpScreen(BoxScreen):
    """The keys, the current view's first; see the module docstring."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "close", "Close"),
    ]

    DEFAULT_CSS = """
    HelpScreen > .modal-box { width: 96; max-width: 95%; height: 90%; }
    """

    def __init__(self, sections: list[HelpSection]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box", classes=BOX_CLASS):
            yield Static(render_sections(self.sections), id="help")

    def on_mount(self) -> None:
        box = self.query_one("#help-box")
        box.border_title = "Keys"
        box.border_subtitle = "escape, q or ? to close"
        box.focus()


def help_sections(app: App[Any], *, current: str | None = None,
                  extra: Iterable[tuple[str, Iterable[type[DOMNode]]]] = ()
                  ) -> list[HelpSection]:
    """The sections of the help: the `current` view (its keys, then Enter and the mouse), the
    keys that work everywhere, `extra` (title, classes), then the other views. Only
    contextree's own bindings (and the app's built-in quit): Textual's widgets' own keys
    (tables, trees, text input) are the usual ones and are left out."""
    base_screen = app.screen_stack[0] if app.screen_stack else app.screen
    views = [view for switcher in base_screen.query(ContentSwitcher)
             for view in switcher.children]
    shown = [view for view in views if view.id == current]
    others = [view for view in views if view.id != current]
    sections: list[HelpSection] = []
    for view in shown:
        sections.append(view_section(app, view, suffix=" — this view"))
    everywhere = own_rows(app, [type(app), type(base_screen)])
    everywhere += [row for row in rows_of(app, _own_bindings(App)) if row not in everywhere]
    sections.append(("Everywhere", everywhere))
    for title, classes in extra:
        rows = own_rows(app, list(dict.fromkeys(classes)))
        if rows:
            sections.append((title, rows))
    sections.extend(view_section(app, view) for view in others)
    return [(title, rows) for title, rows in sections if rows]


POINTER_ROWS: list[HelpRow] = [
    ("click", "select a row or an entry"),
    ("wheel", "scroll"),
]
"""The mouse, in every view; a view adds its own Enter and mouse rows as `HELP_POINTER`."""


def view_section(app: App[Any], view: DOMNode, suffix: str = "") -> HelpSection:
    """A view's keys (its own and its widgets'), then its Enter and mouse rows."""
    title = getattr(view, "HELP_TITLE", None) or (view.id or type(view).__name__)
    rows = own_rows(app, (type(node) for node in view.walk_children(with_self=True)))
    pointer: list[HelpRow] = list(getattr(view, "HELP_POINTER", []))
    pointer += [row for row in POINTER_ROWS if row[0] not in {keys for keys, _ in pointer}]
    return (title + suffix, rows + [row for row in pointer if row not in rows])


def own_rows(app: App[Any], classes: Iterable[type[DOMNode]]) -> list[HelpRow]:
    """The rows of the bindings contextree's own classes declare (in `classes` and their
    bases), without duplicates."""
    bindings: list[Binding] = []
    for cls in classes:
        for klass in reversed(cls.__mro__):
            if not _is_builtin(klass):
                bindings.extend(_own_bindings(klass))
    return rows_of(app, bindings)


def rows_of(app: App[Any], bindings: Iterable[Binding]) -> list[HelpRow]:
    """One row per action: its keys (`h / l` style) and its description."""
    keys: dict[tuple[str, str], list[str]] = {}
    for binding in bindings:
        if binding.system:
            continue
        description = binding.description or binding.action.replace("_", " ")
        shown = keys.setdefault((binding.action, description), [])
        key = app.get_key_display(binding)
        if key not in shown:
            shown.append(key)
    rows: list[HelpRow] = []
    for (_, description), shown in keys.items():
        row = (" / ".join(shown), description)
        if row not in rows:
            rows.append(row)
    return rows


def _own_bindings(klass: type) -> list[Binding]:
    declared = klass.__dict__.get("BINDINGS") or []
    return list(Binding.make_bindings(declared))


def _is_builtin(klass: type) -> bool:
    return not klass.__module__.startswith("contextree")


def render_sections(sections: list[HelpSection]) -> Text:
    """Each section's title, then its keys right-aligned in one column and what they do."""
    width = min(18, max((len(keys) for _, rows in sections for keys, _ in rows), default=1))
    text = Text()
    for index, (title, rows) in enumerate(sections):
        if index:
            text.append("\n")
        text.append(title + "\n", style="bold underline")
        for keys, description in rows:
            text.append(f"  {keys:>{width}}", style="bold cyan")
            text.append(f"  {description}\n")
    text.rstrip()
    return text
