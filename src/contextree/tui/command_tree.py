"""The `ctree` command tree, rebuilt from `command_tree.json` without importing the CLI.

The file describes every command, option and argument (`contextree.cli.describe` writes it, a
test keeps it equal to the CLI). `command_tree()` turns it into click commands that parse and
complete but run nothing — their callbacks are empty — so the command bar checks a line with
click's own rules before a child process runs it, and completion walks the same tree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import click

TREE_FILE = Path(__file__).with_name("command_tree.json")
HELP_WORDS = frozenset({"--help", "-h"})


@dataclass(frozen=True)
class ParsedCommand:
    """A command line click accepted: its subcommand path and the leaf's parameters."""

    words: tuple[str, ...]
    path: tuple[str, ...]
    """The subcommand names, e.g. `("context", "generate")`."""
    params: dict[str, Any] = field(default_factory=dict)
    wants_help: bool = False
    """The line only asks for help or the version (`--help`, `--version`, a bare group)."""

    @property
    def name(self) -> str:
        return " ".join(self.path)


@cache
def command_tree() -> click.Group:
    """The root `ctree` group, rebuilt once from the description file."""
    root = build_command(json.loads(TREE_FILE.read_text(encoding="utf-8")))
    if not isinstance(root, click.Group):
        raise ValueError(f"{TREE_FILE} does not describe a group at its root")
    return root


def build_command(described: dict[str, Any]) -> click.Command:
    """A click command (a group if it has subcommands) that parses as the described one."""
    options: dict[str, Any] = {
        "name": described["name"], "params": [_param(param) for param in described["params"]],
        "short_help": described.get("help") or None, "hidden": described.get("hidden", False),
        "add_help_option": False,  # click's would print the help: `parse_command` spots it
    }
    if "commands" in described:
        return click.Group(commands=[build_command(sub) for sub in described["commands"]],
                           **options)
    return click.Command(callback=None, **options)


def _param(described: dict[str, Any]) -> click.Parameter:
    common: dict[str, Any] = {
        "nargs": described["nargs"], "required": described["required"],
        "multiple": described["multiple"], "type": _type(described["type"]),
    }
    declarations = [*described["opts"], described["name"]]
    if described["kind"] == "argument":
        common.pop("multiple")
        return click.Argument([described["name"]], **common)
    if described["secondary_opts"]:
        declarations = ["/".join([*described["opts"][:1], *described["secondary_opts"]]),
                        *described["opts"][1:], described["name"]]
    if described["is_flag"] or described["count"]:
        common.pop("type")
        common.pop("nargs")
    return click.Option(declarations, is_flag=described["is_flag"] or None,
                        count=described["count"], hidden=described["hidden"],
                        help=described["help"] or None, **common)


def _type(described: dict[str, Any]) -> Any:
    """The click type of a described parameter (click's own `ParamType`)."""
    name = described["name"]
    if name == "choice":
        return click.Choice(described["choices"])
    if name == "int" and ("min" in described or "max" in described):
        return click.IntRange(min=described.get("min"), max=described.get("max"))
    if name == "float" and ("min" in described or "max" in described):
        return click.FloatRange(min=described.get("min"), max=described.get("max"))
    simple: dict[str, Any] = {"int": click.INT, "float": click.FLOAT, "boolean": click.BOOL,
                              "path": click.Path()}
    return simple.get(name, click.STRING)


def parse_command(words: list[str], root: click.Group | None = None) -> ParsedCommand:
    """Parse `words` (after `ctree`) down to the leaf command; run nothing.

    Raises `click.UsageError` (or another `click.ClickException`) for an invalid line.
    """
    group = root or command_tree()
    if HELP_WORDS.intersection(words):
        return ParsedCommand(tuple(words), (), wants_help=True)
    path: list[str] = []
    try:
        ctx = group.make_context("ctree", list(words))
        if ctx.params.get("version"):
            return ParsedCommand(tuple(words), (), wants_help=True)
        command: click.Command = group
        while isinstance(command, click.Group):
            rest = [*ctx._protected_args, *ctx.args]  # what click's own completion reads
            if not rest:
                raise click.UsageError("missing command", ctx)
            name, sub, rest = command.resolve_command(ctx, rest)
            if name is None or sub is None:
                raise click.UsageError(f"no such command {rest[0]!r}", ctx)
            path.append(name)
            ctx = sub.make_context(name, rest, parent=ctx)
            command = sub
    except click.exceptions.NoArgsIsHelpError:
        return ParsedCommand(tuple(words), tuple(path), wants_help=True)
    return ParsedCommand(tuple(words), tuple(path), params=dict(ctx.params))
