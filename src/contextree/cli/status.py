"""`ctree status [--json]`: the tree, whether it is stale, sessions.

A read: it opens the store read-only (a writer stopped mid-commit does not block it) and
records no session.
"""

from __future__ import annotations

import click

from contextree.cli.common import CliContext, open_store_readonly, pass_cli
from contextree.engine.generation.read import coverage_source
from contextree.engine.workspace.config import load_config
from contextree.engine.workspace.status import WorkspaceStatus, workspace_status
from contextree.progress.compact import StoreUsage, store_usage
from contextree.sizes import format_bytes


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status as one JSON object.")
@pass_cli
def status(cli: CliContext, as_json: bool) -> None:
    """Show node counts, the last scan, staleness, context coverage per agent and sessions."""
    config = load_config(cli.workspace)
    store = open_store_readonly(cli)
    try:
        result = workspace_status(cli.workspace, store, config=config,
                                  coverage=coverage_source(store, config))
        usage = store_usage(store)
    finally:
        store.close()
    if as_json:
        import json  # only the JSON form needs it

        click.echo(json.dumps({**result.to_json(), "store_size_bytes": usage.size_bytes,
                               "store_free_bytes": usage.free_bytes}))
    else:
        click.echo(describe_status(result, usage))


def describe_status(status: WorkspaceStatus, usage: StoreUsage | None = None) -> str:
    """The human form: one labelled line per fact."""
    rows = [("workspace", status.workspace), ("store", status.store)]
    if usage is not None:
        rows.append(("store size", _store_size(usage)))
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


def _store_size(usage: StoreUsage) -> str:
    text = f"{format_bytes(usage.size_bytes)}, {usage.free_share:.0%} free"
    if usage.worth_compacting:
        text += " — run `ctree sessions compact` to give it back"
    return text


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
