"""`ctree init`: create `.ctree/` with the default configuration, as a session."""

from __future__ import annotations

from typing import Any

import click

from contextree.cli.common import CliContext, pass_cli, run_session
from contextree.engine.workspace.layout import init_workspace
from contextree.progress.session import Session


@click.command()
@pass_cli
def init(cli: CliContext) -> None:
    """Create .ctree/ (config.toml, store) in the workspace."""
    cli = cli.here()  # as `git init`: the current folder (or -C's), not an enclosing workspace
    workspace = cli.workspace
    created = init_workspace(workspace)

    def body(session: Session) -> dict[str, Any]:
        return {"created": created, "config": str(workspace.config_path)}

    summary = run_session(cli, "init", {}, body)
    verb = "initialised" if summary["created"] else "already initialised"
    click.echo(f"{verb} {workspace.ctree_dir} (config: {workspace.config_path})")
