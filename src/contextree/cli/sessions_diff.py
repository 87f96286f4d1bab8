"""`ctree sessions diff A B`: compare two generating sessions node by node.

A summary first (outcome changes, totals, the slowest regressions), then the nodes that
differ grouped by directory, a directory that differs alike throughout as one line; the
comparison lives in `contextree.progress.diff`, the lines in `contextree.progress.diff_rollup`.
"""

from __future__ import annotations

import click
import msgspec

from contextree.cli.common import CliContext, open_store_readonly, pass_cli
from contextree.progress.diff import diff_sessions
from contextree.progress.diff_rollup import entry_line, rolled_up, summary_lines


@click.command("diff")
@click.argument("a_ref")
@click.argument("b_ref")
@click.option("--json", "as_json", is_flag=True,
              help="Print {summary, nodes, rolled_up} as JSON (nodes: one per path).")
@click.option("--all", "show_all", is_flag=True,
              help="List every node, unchanged ones too, none rolled up.")
@pass_cli
def diff(cli: CliContext, a_ref: str, b_ref: str, as_json: bool, show_all: bool) -> None:
    """Compare sessions A and B (ids, prefixes, `last`, `last~1`) node by node."""
    store = open_store_readonly(cli)
    try:
        result = diff_sessions(store, a_ref, b_ref)
    finally:
        store.close()
    entries = rolled_up(result, show_all=show_all)
    if as_json:
        nodes = result.nodes if show_all else result.differing()
        report = {"summary": result.summary(), "nodes": [node.to_json() for node in nodes],
                  "rolled_up": [entry.to_json() for entry in entries]}
        click.echo(msgspec.json.encode(report).decode())
        return
    for line in [*summary_lines(result), *(entry_line(entry) for entry in entries)]:
        click.echo(line)
