"""`ctree agent list|show ID`: the agents that can write context, and their prompts."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import click
import msgspec
from rich.console import Console
from rich.table import Table

from contextree.cli.common import CliContext, pass_cli, run_session
from contextree.cli.groups import HelpGroup
from contextree.engine.generation.agents import Agent, list_agents, resolve_agent
from contextree.engine.workspace.config import Config, load_config
from contextree.progress import Session

_json = msgspec.json.Encoder()


@click.group(cls=HelpGroup)
def agent() -> None:
    """List and inspect the agents that write context frames."""


def table_console() -> Console:
    """A console for tables: the terminal's width, or no width limit when piped."""
    console = Console(highlight=False)
    return console if console.is_terminal else Console(highlight=False, width=10_000)


def agent_json(item: Agent, config: Config) -> dict[str, Any]:
    return {**asdict(item), "default": item.id == config.default_agent}


@agent.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@pass_cli
def list_command(cli: CliContext, as_json: bool) -> None:
    """List the agents: built-in `docs` and those in [agents.ID] of config.toml."""
    found: list[tuple[Config, list[Agent]]] = []

    def body(session: Session) -> dict[str, Any]:
        config = load_config(cli.workspace)
        found.append((config, list_agents(config)))
        return {"agent_count": len(found[0][1])}

    run_session(cli, "agent.list", {}, body)
    ((config, agents),) = found
    if as_json:
        click.echo(_json.encode([agent_json(item, config) for item in agents]).decode())
        return
    table = Table(box=None, header_style="bold")
    for column in ("agent", "frame type", "origin", "file prompt"):
        table.add_column(column, no_wrap=column != "file prompt", overflow="ellipsis")
    for item in agents:
        default = " (default)" if item.id == config.default_agent else ""
        origin = "built-in" if item.builtin and not item.customised else (
            "built-in, customised" if item.builtin else "config")
        table.add_row(item.id + default, item.frame_type, origin, item.file_prompt)
    table_console().print(table)


@agent.command("show")
@click.argument("agent_id")
@click.option("--json", "as_json", is_flag=True, help="Print the agent as JSON.")
@pass_cli
def show(cli: CliContext, agent_id: str, as_json: bool) -> None:
    """Show one agent's frame type and full prompts."""
    found: list[tuple[Config, Agent]] = []

    def body(session: Session) -> dict[str, Any]:
        config = load_config(cli.workspace)
        found.append((config, resolve_agent(config, agent_id)))
        return {"agent_id": agent_id}

    run_session(cli, "agent.show", {"agent": agent_id}, body)
    ((config, item),) = found
    if as_json:
        click.echo(_json.encode(agent_json(item, config)).decode())
        return
    default = " (default)" if item.id == config.default_agent else ""
    click.echo(f"agent {item.id}{default} — writes frames of type {item.frame_type}")
    for label, text in (("system prompt", item.system_prompt), ("file prompt", item.file_prompt),
                        ("directory prompt", item.directory_prompt)):
        click.echo(f"\n{label}:\n  " + "\n  ".join(text.splitlines() or [""]))
    click.echo("\nplaceholders: {path}, {node_type}, {file_size}; a file prompt is followed by "
               "the file's text, a directory prompt by its children's context")
