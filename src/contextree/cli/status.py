"""`ctree status [--json]`: the tree, whether it is stale, sessions — as a session."""

from __future__ import annotations

import json
from typing import Any

import click

from contextree.cli.common import CliContext, pass_cli, run_session
from contextree.engine.generation.read import coverage_source
from contextree.engine.workspace.config import load_config
from contextree.engine.workspace.status import WorkspaceStatus, workspace_status
from contextree.progress import EventStore, Session
from contextree.sizes import format_bytes


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status as one JSON object.")
@pass_cli
def status(cli: CliContext, as_json: bool) -> None:
    """Show node counts, the last scan, staleness, context coverage per agent and sessions."""
    found: list[WorkspaceStatus] = []

    def body(session: Session) -> dict[str, Any]:
        store = EventStore.open(cli.workspace.store_path)
        try:
            config = load_config(cli.workspace)
            result = workspace_status(cli.workspace, store, config=config,
                                      coverage=coverage_source(store, config))
            result.sessions = _counts_without(store, session.session_id)
        finally:
            store.close()
        found.append(result)
        return {"node_count": result.node_count, "stale": result.stale}

    run_session(cli, "status", {}, body)
    (result,) = found
    click.echo(json.dumps(result.to_json()) if as_json else describe_status(result))


def _counts_without(store: EventStore, session_id: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for record in store.list_sessions():
        if record.session_id != session_id:
            counts[record.status] = counts.get(record.status, 0) + 1
    return counts


def describe_status(status: WorkspaceStatus) -> str:
    """The human form: one labelled line per fact."""
    rows = [("workspace", status.workspace), ("store", status.store)]
    if not status.scanned:
        rows.append(("tree", "not scanned yet — run `ctree scan`"))
    else:
        rows.append((
            "tree",
            f"{status.node_count} nodes ({status.file_count} files, {status.dir_count} "
            f"directories), {format_bytes(status.total_bytes)}, "
            f"root {(status.root_id or '-')[:16]}",
        ))
        rows.append(("last scan", status.last_scan_at or "never"))
        rows.append(("state", _staleness(status)))
    rows.append(("sessions", _sessions(status.sessions)))
    for agent, coverage in sorted(status.coverage.items()):
        rows.append((
            f"coverage {agent}",
            f"{coverage.covered}/{coverage.total} nodes ({coverage.ratio:.0%})",
        ))
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label:<{width}}  {value}" for label, value in rows)


def _staleness(status: WorkspaceStatus) -> str:
    if status.stale is None:
        return "unknown"
    if not status.stale:
        return "up to date"
    shown = ", ".join(status.stale_paths[:5])
    more = " …" if status.stale_count > 5 else ""
    return f"stale: {status.stale_count} files changed ({shown}{more}) — run `ctree scan`"


def _sessions(counts: dict[str, int]) -> str:
    total = sum(counts.values())
    if not total:
        return "none"
    parts = ", ".join(f"{count} {name}" for name, count in sorted(counts.items()))
    return f"{total} ({parts})"
