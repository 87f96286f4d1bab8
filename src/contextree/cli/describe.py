"""The `ctree` command tree as plain data: commands, options, arguments, choices and ranges.

The terminal UI completes and checks command lines without importing the CLI: it rebuilds the
tree from `tui/command_tree.json`, which this module writes (`python -m
contextree.cli.describe`). A test compares the file with `describe(cli)`, so a command or an
option added to the CLI and not to the file fails the build with the command to run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

TREE_FILE = Path(__file__).resolve().parents[1] / "tui" / "command_tree.json"


def describe(command: click.Command) -> dict[str, Any]:
    """`command` and everything under it, as JSON-ready data."""
    described: dict[str, Any] = {
        "name": command.name,
        "help": command.get_short_help_str(limit=60),
        "hidden": command.hidden,
        "params": [_param(param) for param in command.params],
    }
    if isinstance(command, click.Group):
        context = click.Context(command)
        described["commands"] = [
            describe(sub) for name in command.list_commands(context)
            if (sub := command.get_command(context, name)) is not None
        ]
    return described


def _param(param: click.Parameter) -> dict[str, Any]:
    found: dict[str, Any] = {
        "kind": "option" if isinstance(param, click.Option) else "argument",
        "name": param.name, "opts": list(param.opts), "secondary_opts": list(param.secondary_opts),
        "nargs": param.nargs, "required": param.required, "multiple": param.multiple,
        "type": _type(param.type),
    }
    if isinstance(param, click.Option):
        found.update(is_flag=param.is_flag, count=param.count, hidden=param.hidden,
                     help=(param.help or "").split("\n")[0])
    return found


def _type(kind: click.ParamType[Any, Any]) -> dict[str, Any]:
    if isinstance(kind, click.Choice):
        return {"name": "choice", "choices": [str(choice) for choice in kind.choices]}
    if isinstance(kind, click.IntRange | click.FloatRange):
        return {"name": "int" if isinstance(kind, click.IntRange) else "float",
                "min": kind.min, "max": kind.max}
    if isinstance(kind, click.Path):
        return {"name": "path"}
    if kind in (click.INT, click.FLOAT, click.BOOL):
        return {"name": kind.name}
    return {"name": "text"}


def main() -> None:
    """Write the tree of the `ctree` group to `tui/command_tree.json`."""
    from contextree.cli.app import cli

    TREE_FILE.write_text(json.dumps(describe(cli), indent=1) + "\n", encoding="utf-8")
    sys.stdout.write(f"wrote {TREE_FILE}\n")


if __name__ == "__main__":
    main()
