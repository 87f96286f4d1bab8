"""The one way commands make a rich `Console`: wrapped to the terminal, never wrapped when piped.

rich wraps at 80 columns when stdout is not a terminal, which breaks `ctree … > file` and
`… | cat`; a console for a pipe or file gets soft wrapping and a width no line reaches.
"""

from __future__ import annotations

from rich.console import Console

UNWRAPPED_WIDTH = 100_000
"""The width of a console writing to a pipe or file: wide enough that nothing wraps."""


def output_console() -> Console:
    """A console for stdout: the terminal's width on a terminal, unwrapped otherwise."""
    console = Console(highlight=False)
    if console.is_terminal:
        return console
    return Console(highlight=False, width=UNWRAPPED_WIDTH, soft_wrap=True)
