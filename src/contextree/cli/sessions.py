"""`ctree sessions …`: list, show, stream, replay, prune, delete and compact stored sessions.

These commands read the store; they create no session of their own, except `prune`, which
changes the store and so runs as the session `sessions.prune` (`compact` records none: it
needs the store closed everywhere). A session may be named by its full id, any unique prefix,
or `last`.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

import click
import msgspec

from contextree.cli.common import (
    CliContext,
    existing_store_path,
    open_store,
    open_store_readonly,
    pass_cli,
    run_session,
    sessions_policy,
)
from contextree.cli.groups import LazyCommand, LazyGroup
from contextree.durations import format_duration, format_ms, parse_duration
from contextree.errors import UsageError
from contextree.progress.session import INTERRUPTED, SessionMeta, SessionRecord, duration_ms
from contextree.sizes import format_bytes

if TYPE_CHECKING:
    from contextree.progress.event_filter import EventFilter
    from contextree.progress.follow import Follower
    from contextree.progress.session import Session
    from contextree.progress.state import SessionState
    from contextree.progress.store import EventStore

# What only some subcommands need (the reducer, rich, following, filtering, compaction) is
# imported inside them: `sessions list` starts with the store alone.

_json = msgspec.json.Encoder()
STATUS_STYLES = {"active": "cyan", "completed": "green", "failed": "red", "interrupted": "yellow"}
TABLE_LIMIT = 50
"""Sessions the table shows unless --limit or --all says otherwise."""


SUBCOMMANDS = {
    "verify": LazyCommand("contextree.cli.sessions_verify:verify",
                          "Check sessions' seqs, first and last events, meta, record and "
                          "replayed summary."),
    "diff": LazyCommand("contextree.cli.sessions_diff:diff",
                        "Compare sessions A and B (ids, prefixes, `last`, `last~1`) node by "
                        "node."),
}
"""The subcommands kept in their own modules: loaded only when used (a test checks the help)."""


@click.group(cls=LazyGroup, lazy_commands=SUBCOMMANDS)
def sessions() -> None:
    """Inspect, follow, replay and prune the sessions in the store."""


def session_row(record: SessionRecord, meta: SessionMeta | None) -> dict[str, Any]:
    """The summary of one session that `list --json` prints."""
    return {
        "session_id": record.session_id,
        "command": record.command,
        "status": record.status,
        "started_at": record.started_at,
        "ended_at": record.ended_at,
        "duration_ms": duration_ms(record),
        "event_count": meta.event_count if meta else 0,
        "pid": record.pid,
        "error": record.error,
    }


def _echo_json(value: Any) -> None:
    click.echo(_json.encode(value).decode())


@sessions.command("list")
@click.option("--json", "as_json", is_flag=True,
              help="Print a JSON array (every session unless --limit is given).")
@click.option("--status", type=click.Choice(["active", "completed", "failed", "interrupted"]))
@click.option("--command", "command", help="Only this command (and its subcommands).")
@click.option("--limit", type=click.IntRange(min=1),
              help=f"At most this many, newest first (the table shows {TABLE_LIMIT} by default).")
@click.option("--all", "show_all", is_flag=True, help="Every session in the table.")
@pass_cli
def list_sessions(
    cli: CliContext, as_json: bool, status: str | None, command: str | None, limit: int | None,
    show_all: bool,
) -> None:
    """List sessions, newest first, with their effective status."""
    if limit is None and not show_all and not as_json:
        limit = TABLE_LIMIT
    store = open_store_readonly(cli)
    try:
        records = store.list_sessions(status=status, command=command, limit=limit)
        metas = store.get_metas(record.session_id for record in records)
        hidden = 0
        if limit is not None and len(records) == limit and not as_json:
            hidden = store.count_sessions(status=status, command=command) - len(records)
    finally:
        store.close()
    rows = [session_row(record, metas.get(record.session_id)) for record in records]
    if as_json:
        _echo_json(rows)
        return
    if not rows:
        click.echo("no sessions yet — run `ctree scan` or `ctree context generate`")
        return
    click.echo("\n".join(_table_lines(rows)), color=None)
    if hidden > 0:
        click.echo(f"… {hidden} more — run `ctree sessions list --all` to see them all, "
                   "or --limit N")


def _table_lines(rows: list[dict[str, Any]]) -> list[str]:
    """The table as text: plain fixed-width columns (fast for ten thousand rows), the status
    coloured (click drops the colour when the output is not a terminal)."""
    cells = [
        (row["session_id"], row["started_at"].replace("T", " ")[:19], row["command"],
         format_ms(row["duration_ms"]), row["status"], str(row["event_count"]))
        for row in rows
    ]
    header = ("session", "started", "command", "duration", "status", "events")
    widths = [max(len(header[i]), *(len(cell[i]) for cell in cells)) for i in range(6)]
    right = (False, False, False, True, False, True)

    def line(cell: tuple[str, ...], status_style: str | None) -> str:
        parts = []
        for index, text in enumerate(cell):
            padded = text.rjust(widths[index]) if right[index] else text.ljust(widths[index])
            if index == 4 and status_style:
                padded = click.style(padded, fg=status_style)
            parts.append(padded)
        return "  ".join(parts).rstrip()

    lines = [click.style(line(header, None), bold=True)]
    lines.extend(line(cell, STATUS_STYLES.get(cell[4])) for cell in cells)
    return lines


@sessions.command("show")
@click.argument("session_ref")
@click.option("--json", "as_json", is_flag=True, help="Print the record and summary as JSON.")
@pass_cli
def show(cli: CliContext, session_ref: str, as_json: bool) -> None:
    """Show a session's record and the summary of its state."""
    store = open_store_readonly(cli)
    try:
        record, state = _load_state(store, session_ref)
        row = session_row(record, store.get_meta(record.session_id))
    finally:
        store.close()
    summary = state.to_json()
    if as_json:
        summary.pop("nodes")
        _echo_json({"record": msgspec.to_builtins(record), **row, "state": summary})
        return
    _print_show(record, row, state)


def _print_show(record: SessionRecord, row: dict[str, Any], state: SessionState) -> None:
    from rich.console import Console
    from rich.markup import escape

    from contextree.progress.catalog import EventType

    style = STATUS_STYLES.get(record.status, "")
    console = Console()
    console.print(f"[bold]{record.session_id}[/]  {escape(record.command)}  "
                  f"[{style}]{record.status}[/]")
    lines = [
        ("started", record.started_at),
        ("ended", record.ended_at or "—"),
        ("duration", format_ms(row["duration_ms"])),
        ("events", str(row["event_count"])),
        ("owner", f"pid {record.pid} on {record.host}"),
        ("workspace", record.workspace or "—"),
    ]
    if record.args:
        lines.append(("args", " ".join(f"{k}={v}" for k, v in record.args.items())))
    if state.total_nodes or state.nodes:
        lines.append(("nodes", f"{state.total_nodes} planned, {state.completed_count} completed, "
                               f"{state.skipped_count} skipped, {state.failed_count} failed"))
    if state.total_levels:
        lines.append(("levels", f"{len(state.levels)} of {state.total_levels} started"))
    if state.event_types[EventType.SCAN_STARTED]:
        scan = state.scan
        lines.append(("scan", f"{scan.file_count} files, {scan.dir_count} dirs, "
                              f"{format_bytes(scan.bytes_hashed)} hashed, changed: {scan.changed}"))
    if state.event_types[EventType.WATCH_STARTED]:
        watch = state.watch
        lines.append(("watch", f"{watch.batches} batches, {watch.changes} changes"))
    provider = state.provider
    if provider.requests:
        lines.append(("provider", f"{provider.requests} requests, {provider.retries} retries, "
                                  f"{provider.failures} failed"))
        lines.append(("tokens", f"{provider.input_tokens} in / {provider.output_tokens} out"))
    if record.error:
        lines.append(("error", record.error))
    for label, value in lines:  # values are text, never markup: "[providers.x]" stays
        console.print(f"  [dim]{label:<10}[/] {escape(value)}", highlight=False)


def _load_state(store: EventStore, session_ref: str) -> tuple[SessionRecord, SessionState]:
    from contextree.progress.reducer import replay

    session_id = store.resolve_session_id(session_ref)
    record = store.get_session(session_id)
    if record is None:  # deleted between resolve and read
        raise UsageError(f"session {session_id} vanished — run `ctree sessions list`")
    record.status = store.status_of(record)
    return record, replay(store.iter_events(session_id), record)


@sessions.command("events")
@click.argument("session_ref")
@click.option("--after", "after_seq", type=click.IntRange(min=0), default=0,
              help="Only events with seq greater than this.")
@click.option("--follow", "-f", is_flag=True, help="Stream new events until the session ends.")
@click.option("--type", "types", multiple=True, help="Only events of this type (repeatable).")
@click.option("--path", "path_glob", help="Only events whose node path matches this glob.")
@click.option("--level", type=click.IntRange(min=1), help="Only events of this level (1 = first).")
@click.option("--errors", is_flag=True, help="Only events that report an error.")
@pass_cli
def events(cli: CliContext, session_ref: str, after_seq: int, follow: bool,
           types: tuple[str, ...], path_glob: str | None, level: int | None,
           errors: bool) -> None:
    """Print a session's events as JSON lines, exactly as stored (those the filters keep)."""
    from contextree.progress.event import split_event_key, well_formed_raw_events
    from contextree.progress.event_filter import EventFilter, check_event_types
    from contextree.progress.follow import Follower

    keep = EventFilter(check_event_types(types), path_glob,
                       level - 1 if level is not None else None, errors)
    store = open_store_readonly(cli)
    try:
        session_id = store.resolve_session_id(session_ref)
        follower = Follower(store, session_id, after_seq)
        out = sys.stdout.buffer
        last_key = None
        shown = 0
        for last_key, raw in well_formed_raw_events(  # noqa: B007
                store.iter_raw_events(session_id, after_seq, first_chunk=1)):
            if keep.matches_raw(raw):
                out.write(raw + b"\n")
                shown += 1
                if shown == 1:  # the first line at once, even into a pipe
                    out.flush()
        if last_key is not None:
            follower.last_seen = split_event_key(last_key)[1]
        out.flush()
        if follow:
            _stream(follower, out, keep)
    finally:
        store.close()


def _stream(follower: Follower, out: Any, keep: EventFilter) -> None:
    """Print every new event `keep` matches; the follower reads them all, so none is missed."""
    import threading

    from contextree.progress.event import well_formed_raw_events

    stop = threading.Event()
    try:
        while not follower.finished:
            for _, raw in well_formed_raw_events(follower.wait_raw(1.0, stop=stop)):
                if keep.matches_raw(raw):
                    out.write(raw + b"\n")
            out.flush()
    except KeyboardInterrupt:
        stop.set()


@sessions.command("replay")
@click.argument("session_ref")
@click.option("--json", "as_json", is_flag=True, help="Print the final state model as JSON.")
@pass_cli
def replay_command(cli: CliContext, session_ref: str, as_json: bool) -> None:
    """Rebuild a session's final state from its stored events."""
    store = open_store_readonly(cli)
    try:
        record, state = _load_state(store, session_ref)
    finally:
        store.close()
    if as_json:
        _echo_json(state.to_json())
        return
    _print_show(record, session_row_from_state(record, state), state)
    for level in state.level_list():
        click.echo(f"  level {level.index + 1}: {level.node_count} nodes, {level.completed_count} "
                   f"completed, {level.failed_count} failed ({level.status})")
    for node in state.nodes.values():
        if node.status == "failed":
            click.echo(f"  failed {node.path}: {node.error}")


def session_row_from_state(record: SessionRecord, state: SessionState) -> dict[str, Any]:
    return {"duration_ms": state.duration_ms or duration_ms(record),
            "event_count": state.event_count}


@sessions.command("prune")
@click.option("--max-age", help="Remove ended sessions older than this (e.g. 14d, 12h).")
@click.option("--max-count", type=click.IntRange(min=0), help="Keep at most this many ended.")
@click.option("--dry-run", is_flag=True, help="Only show what would be removed.")
@click.option("--interrupted", "with_interrupted", is_flag=True,
              help="Also remove interrupted sessions last seen alive longer ago than --max-age.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_cli
def prune(cli: CliContext, max_age: str | None, max_count: int | None, dry_run: bool,
          with_interrupted: bool, as_json: bool) -> None:
    """Remove old ended sessions (never active ones; interrupted ones only with
    --interrupted)."""
    open_store_readonly(cli).close()  # a missing store is an error, not a new empty one
    default_age, default_count = sessions_policy(cli.workspace)
    max_age_s = parse_duration(max_age) if max_age is not None else default_age
    count = max_count if max_count is not None else default_count
    args = {"max_age": format_duration(max_age_s), "max_count": count, "dry_run": dry_run,
            "interrupted": with_interrupted}
    result: dict[str, Any] = {}

    def body(session: Session) -> dict[str, Any]:
        outcome = session.store.prune(
            max_age_s=max_age_s, max_count=count, now_s=time.time(), dry_run=dry_run,
            interrupted=with_interrupted,
        )
        result["removed"] = [r.session_id for r in outcome.removed]
        result["kept"] = outcome.kept
        return {"removed_count": len(outcome.removed), "kept_count": outcome.kept,
                "dry_run": dry_run}

    summary = run_session(cli, "sessions.prune", args, body, creates_workspace=False,
                          prune_after=not dry_run)
    if as_json:
        _echo_json({**result, "dry_run": dry_run, "max_age": args["max_age"], "max_count": count})
        return
    verb = "would remove" if dry_run else "removed"
    click.echo(f"{verb} {summary['removed_count']} session(s), kept {summary['kept_count']} "
               f"(max age {args['max_age']}, max count {count})")
    for session_id in result["removed"]:
        click.echo(f"  {session_id}")


@sessions.command("delete")
@click.argument("session_ref")
@pass_cli
def delete(cli: CliContext, session_ref: str) -> None:
    """Delete a session and its events (refuses an active one)."""
    store = open_store(cli)
    try:
        session_id = store.resolve_session_id(session_ref)
        record = store.get_session(session_id)
        store.delete_session(session_id)
    finally:
        store.close()
    status = record.status if record else "?"
    note = " (it was interrupted)" if status == INTERRUPTED else ""
    click.echo(f"deleted session {session_id}{note}")


@sessions.command("compact")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_cli
def compact(cli: CliContext, as_json: bool) -> None:
    """Give the store's free pages back to the filesystem (needs it closed everywhere)."""
    from contextree.progress.compact import compact_store

    result = compact_store(existing_store_path(cli))
    if as_json:
        _echo_json({"before_bytes": result.before_bytes, "after_bytes": result.after_bytes,
                    "freed_bytes": result.freed_bytes})
        return
    click.echo(f"compacted the store: {format_bytes(result.before_bytes)} → "
               f"{format_bytes(result.after_bytes)}, {format_bytes(result.freed_bytes)} freed")
