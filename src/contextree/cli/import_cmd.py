"""`ctree import FILE`: load a bundle written by `ctree export jsonl` into this store.

The whole file is checked before anything is written, and then written in one transaction:
the same session ids, seq and timestamps, or nothing at all. The store is created if needed.
"""

from __future__ import annotations

from pathlib import Path

import click

from contextree.cli.common import CliContext, pass_cli
from contextree.engine.workspace.layout import init_workspace
from contextree.export.bundle import describe, import_bundle, read_bundle
from contextree.progress.store import EventStore


@click.command("import")
@click.argument("bundle", type=click.Path(exists=True, dir_okay=False))
@pass_cli
def import_sessions(cli: CliContext, bundle: str) -> None:
    """Import the sessions of a bundle (from `ctree export jsonl`), whole or not at all."""
    with Path(bundle).open("rb") as lines:
        sessions = read_bundle(lines, bundle)
    workspace = cli.workspace
    if workspace.store_path == workspace.ctree_dir / "store":
        init_workspace(workspace)
    store = EventStore.open(workspace.store_path)
    try:
        import_bundle(store, sessions)
    finally:
        store.close()
    counts = describe(sessions)
    click.echo(f"imported {counts['sessions']} session(s), {counts['events']:,} events")
