"""`ctree tui`: the terminal UI over the workspace's store.

It creates no session of its own and never writes the store: what writes — a delete or prune
asked for in the history, a command run from its command bar (`:`) — runs as a `ctree` child
process, its own session, which the TUI follows through the store like any other.
`--session` follows one session, `--list` opens the history, `--replay` re-feeds a finished
session at `--speed` × its original pace.
"""

from __future__ import annotations

import click

from contextree.cli.common import CliContext, pass_cli, sessions_policy
from contextree.errors import ContextreeError, UsageError
from contextree.progress import EventStore
from contextree.progress.retention import DEFAULT_MAX_AGE_S, DEFAULT_MAX_COUNT


@click.command()
@click.option("--session", "session_ref", metavar="ID",
              help="Follow this session (id, unique prefix, or `last`).")
@click.option("--list", "show_list", is_flag=True, help="Open the session history.")
@click.option("--replay", "replay_ref", metavar="ID", help="Replay this session.")
@click.option("--speed", type=click.FloatRange(min=0.01), default=None,
              help="Replay speed relative to the original timing (default 1).")
@pass_cli
def tui(cli: CliContext, session_ref: str | None, show_list: bool, replay_ref: str | None,
        speed: float | None) -> None:
    """Open the terminal UI: dashboard, live sessions, content, history, command bar."""
    chosen = [name for name, value in (("--session", session_ref), ("--list", show_list),
                                       ("--replay", replay_ref)) if value]
    if len(chosen) > 1:
        raise UsageError(f"{' and '.join(chosen)} cannot be combined — pass one of them")
    if speed is not None and replay_ref is None:
        raise UsageError("--speed applies to --replay — add --replay ID")
    from contextree.tui.app import CtreeApp

    try:
        policy = sessions_policy(cli.workspace)
    except ContextreeError:
        policy = (DEFAULT_MAX_AGE_S, DEFAULT_MAX_COUNT)
    store = EventStore.open_readonly(cli.workspace.store_path)  # the TUI never writes
    try:
        session_id = store.resolve_session_id(session_ref) if session_ref else None
        replay_id = store.resolve_session_id(replay_ref) if replay_ref else None
        app = CtreeApp(
            store=store, workspace=cli.workspace, view="history" if show_list
            else "dashboard", session_id=session_id, replay_id=replay_id, speed=speed or 1.0,
            prune_policy=policy,
        )
        app.run()
    finally:
        store.close()
