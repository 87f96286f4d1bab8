"""`ctree provider list|show NAME|test NAME`: the configured LLM providers.

`list` and `show` print configuration only: which variable holds a key and whether it is
set, never the key. `test` sends one real request (no retry) and prints its latency, or the
provider's error in one line with exit 1; the attempt is recorded in the `provider.test`
session like any other provider request.
"""

from __future__ import annotations

import os
from dataclasses import asdict
from typing import Any

import click
import msgspec
from rich.table import Table

from contextree.cli.agent import table_console
from contextree.cli.common import CliContext, pass_cli, run_session
from contextree.cli.groups import HelpGroup
from contextree.engine.generation.generate import ProviderCheck, check_provider
from contextree.engine.providers.base import STANDARD_KEY_VARIABLES, ProviderConfig
from contextree.engine.workspace.config import Config, load_config
from contextree.progress import Session
from contextree.secrets import redact_url

_json = msgspec.json.Encoder()


@click.group(cls=HelpGroup)
def provider() -> None:
    """List, inspect and test the LLM providers."""


def key_variable(config: ProviderConfig) -> str | None:
    """The environment variable the provider's key is read from (None: needs no key)."""
    if config.type not in STANDARD_KEY_VARIABLES:
        return None
    return config.api_key_env or STANDARD_KEY_VARIABLES[config.type]


def key_state(config: ProviderConfig, settings: Config) -> str:
    variable = key_variable(config)
    if variable is None:
        return "no key needed"
    if os.environ.get(variable, "").strip():
        return f"{variable} is set"
    if config.name in settings.api_keys:
        return "set in the user config"
    if config.type == "openai" and config.base_url and not config.api_key_env:
        return f"{variable} not set (none sent to {redact_url(config.base_url)})"
    return f"{variable} is NOT set"


def provider_json(config: ProviderConfig, settings: Config) -> dict[str, Any]:
    """A provider's settings as shown: a password in the base URL is redacted like a key."""
    return {**asdict(config), "base_url": shown_url(config.base_url),
            "default": config.name == settings.default_provider,
            "key_variable": key_variable(config), "key": key_state(config, settings)}


def shown_url(url: str | None) -> str | None:
    return redact_url(url) if url else url


def _load(cli: CliContext, command: str, args: dict[str, Any]) -> Config:
    found: list[Config] = []

    def body(session: Session) -> dict[str, Any]:
        config = load_config(cli.workspace)
        for name in args.values():
            config.provider(name)  # an unknown name fails the session
        found.append(config)
        return {"provider_count": len(config.providers)}

    run_session(cli, command, args, body)
    return found[0]


@provider.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@pass_cli
def list_command(cli: CliContext, as_json: bool) -> None:
    """List the providers: built-in local, openai, anthropic and [providers.NAME] ones."""
    settings = _load(cli, "provider.list", {})
    configs = sorted((settings.provider_config(name) for name in settings.providers),
                     key=lambda c: (c.name != settings.default_provider, c.name))
    if as_json:
        click.echo(_json.encode([provider_json(c, settings) for c in configs]).decode())
        return
    table = Table(box=None, header_style="bold")
    for column in ("provider", "type", "model", "base url", "key", "limits"):
        table.add_column(column, no_wrap=True, overflow="ellipsis")
    for config in configs:
        default = " (default)" if config.name == settings.default_provider else ""
        rpm = f", {config.requests_per_minute}/min" if config.requests_per_minute else ""
        table.add_row(config.name + default, config.type, config.model,
                      shown_url(config.base_url) or "—",
                      key_state(config, settings), f"{config.max_concurrency} at once{rpm}")
    table_console().print(table)


@provider.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the provider as JSON.")
@pass_cli
def show(cli: CliContext, name: str, as_json: bool) -> None:
    """Show one provider's settings (never its key)."""
    settings = _load(cli, "provider.show", {"provider": name})
    data = provider_json(settings.provider_config(name), settings)
    if as_json:
        click.echo(_json.encode(data).decode())
        return
    for label, value in data.items():
        if value is not None:
            click.echo(f"{label:<20} {value}")


@provider.command("test")
@click.argument("name")
@pass_cli
def test(cli: CliContext, name: str) -> None:
    """Send one real request to NAME and report its latency or its error."""
    results: list[ProviderCheck] = []

    def body(session: Session) -> dict[str, Any]:
        config = load_config(cli.workspace)
        result = check_provider(config, name, session)
        results.append(result)
        return {"provider_name": name, "latency_ms": result.latency_ms}

    run_session(cli, "provider.test", {"provider": name}, body)
    (result,) = results
    tokens = ""
    if result.input_tokens is not None or result.output_tokens is not None:
        tokens = f", {result.input_tokens or 0} in / {result.output_tokens or 0} out tokens"
    first_line = result.reply.strip().splitlines()[0] if result.reply.strip() else ""
    click.echo(f"provider '{result.provider_name}' ({result.model}) answered in "
               f"{result.latency_ms} ms{tokens}: {first_line[:80]}")
