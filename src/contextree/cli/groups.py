"""Command groups that start fast and answer a bare call with their help.

`LazyGroup` knows its subcommands' names and one-line help without importing them: a command's
module (and the heavy libraries it needs) loads only when that command runs or shows its own
help. `HelpGroup` prints its help and exits 0 when called with no subcommand (`ctree`,
`ctree sessions`), as git does, instead of a usage error.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from importlib import import_module
from typing import Any, NamedTuple

import click

HELP_MAX_WIDTH = 80
"""click's cap on the width of help text when `max_content_width` is not set."""
FALLBACK_COLUMNS = 80
"""The terminal width assumed when neither `COLUMNS` nor stdout says (as `shutil` does)."""


def help_width() -> int:
    """The width click's help formatter would choose, found without importing `shutil` (which,
    with the compression modules it loads, costs `--help` a tenth of its start-up): click's
    forced width when set, else the terminal's columns capped at 80, minus 2, at least 50.
    Passed to the root context as `terminal_width`, it reaches every subcommand's help."""
    forced = click.formatting.FORCED_WIDTH
    if forced is not None:
        return forced
    return max(min(_terminal_columns(), HELP_MAX_WIDTH) - 2, 50)


def _terminal_columns() -> int:
    """`shutil.get_terminal_size().columns`: `COLUMNS`, else stdout's terminal, else 80."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or FALLBACK_COLUMNS


class HelpGroup(click.Group):
    """A group that, called without a subcommand, prints its help and exits 0."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("no_args_is_help", False)  # click's own makes it a usage error
        super().__init__(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        if not ctx._protected_args and not ctx.resilient_parsing:
            click.echo(ctx.get_help(), color=ctx.color)
            ctx.exit(0)
        return super().invoke(ctx)


class LazyCommand(NamedTuple):
    """Where a subcommand lives (`module:attribute`) and its one-line help (a named tuple:
    `dataclasses` would cost every start-up its import)."""

    target: str
    short_help: str

    def load(self) -> click.Command:
        module_name, _, attribute = self.target.partition(":")
        command = getattr(import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.target} is not a click command")
        return command


class LazyGroup(HelpGroup):
    """A group whose subcommands are imported only when one of them is used."""

    def __init__(self, *args: Any, lazy_commands: Mapping[str, LazyCommand], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        loaded = super().get_command(ctx, cmd_name)
        if loaded is not None or cmd_name not in self.lazy_commands:
            return loaded
        command = self.lazy_commands[cmd_name].load()
        self.add_command(command, cmd_name)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from the stored one-line helps: nothing is imported."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = [(name, self._short_help(ctx, name, limit)) for name in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def _short_help(self, ctx: click.Context, name: str, limit: int) -> str:
        lazy = self.lazy_commands.get(name)
        if lazy is not None and name not in self.commands:
            return click.Command(name, help=lazy.short_help).get_short_help_str(limit)
        command = super().get_command(ctx, name)
        return command.get_short_help_str(limit) if command is not None else ""
