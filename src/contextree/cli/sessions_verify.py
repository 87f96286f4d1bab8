"""`ctree sessions verify`: check that stored sessions are whole and self-consistent.

It prints one line per problem, naming the session and seq, and exits 1 when there is any;
the checks themselves live in `contextree.progress.verify`.
"""

from __future__ import annotations

import click
import msgspec

from contextree.cli.common import CliContext, open_store_readonly, pass_cli
from contextree.errors import UsageError
from contextree.progress.verify import stored_session_ids, verify_sessions


@click.command("verify")
@click.argument("session_refs", nargs=-1)
@click.option("--all", "every", is_flag=True, help="Verify every session in the store.")
@click.option("--json", "as_json", is_flag=True,
              help="Print {checked, ok, problems: [{session_id, seq, message}]}.")
@pass_cli
def verify(cli: CliContext, session_refs: tuple[str, ...], every: bool, as_json: bool) -> None:
    """Check sessions' seqs, first and last events, meta, record and replayed summary."""
    if every == bool(session_refs):
        raise UsageError("name the sessions to verify, or pass --all — "
                         "e.g. `ctree sessions verify last`")
    store = open_store_readonly(cli)
    try:
        if every:
            session_ids = stored_session_ids(store)
        else:
            session_ids = [store.resolve_session_id(ref) for ref in session_refs]
        problems = list(verify_sessions(store, session_ids))
    finally:
        store.close()
    if as_json:
        report = {"checked": len(session_ids), "ok": not problems,
                  "problems": [problem.to_json() for problem in problems]}
        click.echo(msgspec.json.encode(report).decode())
    else:
        for problem in problems:
            click.echo(problem.line())
        bad = len({problem.session_id for problem in problems})
        click.echo(f"{len(session_ids)} session(s) checked, {bad} with problems",
                   err=bool(problems))
    if problems:
        raise click.exceptions.Exit(1)
