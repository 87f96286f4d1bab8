"""`ctree export otlp|jsonl`: sessions out of the store, as traces or as a lossless bundle.

Both read the store and create no session. `otlp` speaks OTLP/HTTP with the standard library;
only `--protocol grpc` needs the OpenTelemetry extra, imported when it runs; `--follow` turns
it into a long-running bridge (see
`contextree.export.bridge`). Sessions are named by id, unique prefix or `last`, or chosen with
`--all` or `--since`.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import IO

import click

from contextree.cli.common import CliContext, open_store_readonly, pass_cli
from contextree.cli.groups import HelpGroup
from contextree.durations import parse_duration
from contextree.errors import ExportError, UsageError
from contextree.export.bundle import write_bundle
from contextree.export.pipeline import ExportCounts, export_sessions
from contextree.progress.event import parse_ts
from contextree.progress.store import EventStore


@click.group(cls=HelpGroup)
def export() -> None:
    """Send sessions to an OpenTelemetry backend, or write them as a bundle."""


@export.command("otlp")
@click.argument("session_refs", nargs=-1)
@click.option("--all", "all_sessions", is_flag=True, help="Every session in the store.")
@click.option("--since", help="Sessions started within this duration (e.g. 2d, 6h).")
@click.option("--endpoint", help="OTLP endpoint (default: OTEL_EXPORTER_OTLP_ENDPOINT, "
              "else http://localhost:4318); /v1/traces is added to a bare HTTP address.")
@click.option("--protocol", type=click.Choice(["http/protobuf", "grpc"]),
              help="Default: OTEL_EXPORTER_OTLP_PROTOCOL, else http/protobuf.")
@click.option("--header", "headers", multiple=True, metavar="K=V",
              help="An extra request header (repeatable), e.g. x-mlflow-experiment-id=1.")
@click.option("--timeout", type=click.FloatRange(min=0.1), help="Seconds per request.")
@click.option("--follow", is_flag=True, help="Keep running: ship spans as sessions run.")
@click.option("--checkpoint", type=click.Path(dir_okay=False),
              help="With --follow: where to remember progress (default: in .ctree/).")
@click.option("--metrics-port", type=click.IntRange(0, 65535),
              help="With --follow: serve Prometheus /metrics on this port.")
@click.option("--metrics-host", default="127.0.0.1", show_default=True)
@pass_cli
def otlp(cli: CliContext, session_refs: tuple[str, ...], all_sessions: bool,
         since: str | None, endpoint: str | None, protocol: str | None,
         headers: tuple[str, ...], timeout: float | None, follow: bool,
         checkpoint: str | None, metrics_port: int | None, metrics_host: str) -> None:
    """Export sessions as OpenTelemetry traces over OTLP (one trace per session)."""
    from contextree.export.otlp_settings import OtlpSettings, open_sink

    settings = OtlpSettings(endpoint=endpoint, protocol=protocol,
                            headers=_parse_header_options(headers), timeout_s=timeout)
    sink = open_sink(settings)  # first: a missing gRPC extra is said before anything runs
    try:
        if follow:
            from contextree.cli.export_follow import run_bridge

            run_bridge(cli, settings, sink, checkpoint, metrics_port, metrics_host)
            return
        store = open_store_readonly(cli)
        try:
            session_ids = select_sessions(store, session_refs, all_sessions, since)
            counts = export_sessions(store, session_ids, sink)
        finally:
            store.close()
    finally:
        sink.close()
    _report(counts, settings.describe())


def _report(counts: ExportCounts, where: str) -> None:
    if counts.failed_batches:
        raise ExportError(f"{where} did not take {counts.failed_batches} batch(es) of spans — "
                          "check that a collector listens there (--endpoint, "
                          "OTEL_EXPORTER_OTLP_ENDPOINT) and rerun; re-sending is safe")
    click.echo(f"exported {counts.sessions} session(s), {counts.events:,} events → "
               f"{counts.spans:,} spans to {where}")


@export.command("jsonl")
@click.argument("session_refs", nargs=-1)
@click.option("--all", "all_sessions", is_flag=True, help="Every session in the store.")
@click.option("--since", help="Sessions started within this duration (e.g. 2d, 6h).")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Write to this file (default: standard output).")
@pass_cli
def jsonl(cli: CliContext, session_refs: tuple[str, ...], all_sessions: bool,
          since: str | None, output: str | None) -> None:
    """Write sessions exactly as stored (record and events) as JSON lines; `ctree import`
    loads them into another store."""
    store = open_store_readonly(cli)
    try:
        session_ids = select_sessions(store, session_refs, all_sessions, since)
        if output is None:
            _write(store, session_ids, sys.stdout.buffer)
            return
        target = Path(output)
        partial = target.with_name(target.name + ".partial")
        with partial.open("wb") as out:
            count = _write(store, session_ids, out)
        partial.replace(target)
    finally:
        store.close()
    click.echo(f"wrote {len(session_ids)} session(s), {count:,} events to {target}", err=True)


def _write(store: EventStore, session_ids: list[str], out: IO[bytes]) -> int:
    count = write_bundle(store, session_ids, out)
    out.flush()
    return count


def select_sessions(store: EventStore, refs: tuple[str, ...], all_sessions: bool,
                    since: str | None) -> list[str]:
    """Session ids, oldest first, from refs, `--all` or `--since`."""
    if sum((bool(refs), all_sessions, since is not None)) != 1:
        raise UsageError("name the sessions: give ids (or `last`), --all, or --since 2d")
    if refs:
        return list(dict.fromkeys(store.resolve_session_id(ref) for ref in refs))
    records = store.list_sessions()
    if since is not None:
        cutoff = time.time() - parse_duration(since)
        records = [r for r in records if _started_s(r.started_at) >= cutoff]
    return [record.session_id for record in reversed(records)]


def _started_s(started_at: str) -> float:
    try:
        return parse_ts(started_at)
    except ValueError:
        return 0.0


def _parse_header_options(headers: tuple[str, ...]) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for header in headers:
        name, sep, value = header.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"bad header {header!r} — use --header name=value")
        parsed[name.strip().lower()] = value.strip()
    return parsed

