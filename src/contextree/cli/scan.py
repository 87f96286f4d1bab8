"""`ctree scan [--force] [PATH]`: bring the Merkle tree up to date, as a session."""

from __future__ import annotations

import json
from typing import Any

import click

from contextree.cli.common import CliContext, pass_cli, run_session
from contextree.engine.workspace.scan import ScanResult, scan_workspace
from contextree.progress import EventStore, Session
from contextree.sizes import format_bytes

SKIPPED_SHOWN = 5


@click.command()
@click.option("--force", is_flag=True, help="Re-read every file, even unchanged ones.")
@click.option("--json", "as_json", is_flag=True, help="Print the scan_completed data as JSON.")
@click.argument("path", required=False)
@pass_cli
def scan(cli: CliContext, force: bool, as_json: bool, path: str | None) -> None:
    """Scan the workspace (or PATH inside it) into the tree; unchanged files are not re-read."""
    results: list[ScanResult] = []
    path = cli.path_argument(path)

    def body(session: Session) -> dict[str, Any]:
        store = EventStore.open(cli.workspace.store_path)
        try:
            result = scan_workspace(cli.workspace, store, session, force=force, path=path)
        finally:
            store.close()
        results.append(result)
        data = result.event_data()
        return {key: data[key] for key in ("node_count", "file_count", "root_id", "changed")}

    run_session(cli, "scan", {"force": force, "path": path}, body)
    (result,) = results
    if as_json:
        click.echo(json.dumps({"root": result.root, **result.event_data()}))
    else:
        click.echo(describe_scan(result, verbose=cli.verbose))


def describe_scan(result: ScanResult, *, verbose: bool = False) -> str:
    """The human summary of a scan: counts, what was re-read, the root id, what was skipped."""
    counts = result.counts
    where = "" if result.root == "." else f" {result.root}:"
    lines = [
        f"scanned{where} {counts.file_count} files, {counts.dir_count} directories in "
        f"{result.duration_ms} ms — {counts.files_rehashed} read "
        f"({format_bytes(counts.bytes_hashed)}), "
        f"tree {'changed' if result.changed else 'unchanged'}"
        f", root {(result.root_id or '-')[:16]}"
    ]
    if result.skipped:
        lines.append(f"skipped {len(result.skipped)}:")
        shown = result.skipped if verbose else result.skipped[:SKIPPED_SHOWN]
        lines.extend(f"  {item.path}: {item.reason}" for item in shown)
        if len(shown) < len(result.skipped):
            lines.append(f"  … {len(result.skipped) - len(shown)} more (see -v)")
    return "\n".join(lines)
