"""`ctree sessions diff A B`: compare two generating sessions node by node.

A summary first (outcome changes, tokens, durations, the slowest regressions), then each node
that differs; the comparison itself lives in `contextree.progress.diff`.
"""

from __future__ import annotations

import click
import msgspec

from contextree.cli.common import CliContext, open_store_readonly, pass_cli
from contextree.progress.diff import NodeDiff, SessionDiff, diff_sessions


@click.command("diff")
@click.argument("a_ref")
@click.argument("b_ref")
@click.option("--json", "as_json", is_flag=True, help="Print {summary, nodes} as JSON.")
@click.option("--all", "show_all", is_flag=True, help="Show unchanged nodes too.")
@pass_cli
def diff(cli: CliContext, a_ref: str, b_ref: str, as_json: bool, show_all: bool) -> None:
    """Compare sessions A and B (ids, prefixes, `last`, `last~1`) node by node."""
    store = open_store_readonly(cli)
    try:
        result = diff_sessions(store, a_ref, b_ref)
    finally:
        store.close()
    nodes = result.nodes if show_all else result.differing()
    if as_json:
        report = {"summary": result.summary(), "nodes": [node.to_json() for node in nodes]}
        click.echo(msgspec.json.encode(report).decode())
        return
    for line in [*_summary_lines(result), *(_node_line(node) for node in nodes)]:
        click.echo(line)


def _summary_lines(result: SessionDiff) -> list[str]:
    summary = result.summary()
    tokens, duration = summary["tokens"], summary["duration_ms"]
    lines = [f"A {result.a_id}  →  B {result.b_id}",
             f"  {summary['nodes']} nodes, {summary['differing']} differ, "
             f"{summary['content_changed']} with new content",
             f"  tokens {tokens['a']} → {tokens['b']}, duration {duration['a']} ms → "
             f"{duration['b']} ms"]
    lines.extend(f"  {change}: {count}" for change, count in summary["outcome_changes"].items())
    lines.extend(f"  slower: {row['path']} +{row['provider_ms']} ms"
                 for row in summary["slowest_regressions"])
    return lines


def _node_line(node: NodeDiff) -> str:
    notes = [name for name, flag in (("file changed", node.file_changed),
                                     ("content changed", node.content_changed),
                                     ("provider changed", node.provider_changed)) if flag]
    deltas = ", ".join(f"{key} {value:+d}" for key, value in node.deltas().items() if value)
    extra = "; ".join(part for part in (", ".join(notes), deltas) if part)
    return f"{node.path}: {node.a.outcome} → {node.b.outcome}" + (f"  ({extra})" if extra else "")
