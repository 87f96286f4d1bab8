"""`ctree watch [--debounce-ms N] [--generate]`: keep the tree current until stopped.

SIGINT and SIGTERM stop the watch cleanly: it emits `watch_stopped` and the session ends
`completed` (off the main thread no signal handler can be set: its caller stops it).
`batch_handler` is where `--generate` plugs in context regeneration.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import click

from contextree.cli.common import CliContext, pass_cli, run_session
from contextree.cli.metrics import session_metrics
from contextree.engine.generation.generate import BatchGenerator
from contextree.engine.workspace.watch import (
    DEFAULT_DEBOUNCE_MS,
    WatchBatch,
    WatchStop,
    watch_workspace,
)
from contextree.progress import EventStore, Session

BatchHandler = Callable[[WatchBatch], None]


@click.command()
@click.option("--debounce-ms", type=click.IntRange(min=1), default=DEFAULT_DEBOUNCE_MS,
              show_default=True, help="Group changes arriving within this many milliseconds.")
@click.option("--generate", is_flag=True,
              help="Regenerate context for changed nodes and their ancestors.")
@click.option("--metrics-port", type=click.IntRange(0, 65535),
              help="Serve Prometheus /metrics on this port while watching.")
@click.option("--metrics-host", default="127.0.0.1", show_default=True)
@pass_cli
def watch(cli: CliContext, debounce_ms: int, generate: bool, metrics_port: int | None,
          metrics_host: str) -> None:
    """Watch the workspace and update the tree after every batch of changes."""
    stop = WatchStop()

    def body(session: Session) -> dict[str, Any]:
        store = EventStore.open(cli.workspace.store_path)
        try:
            on_batch = batch_handler(cli, session, store) if generate else None
            click.echo(f"watching {cli.workspace.root} — session {session.session_id} "
                       "(Ctrl-C to stop)")
            with stop_on_signals(stop), session_metrics(store, session, metrics_port,
                                                        metrics_host):
                result = watch_workspace(
                    cli.workspace, store, session, stop_event=stop, debounce_ms=debounce_ms,
                    generate=generate, on_batch=on_batch,
                )
        finally:
            store.close()
        click.echo(f"stopped ({result.reason}): {result.batch_count} batches, "
                   f"{result.change_count} changes")
        return {"batch_count": result.batch_count, "change_count": result.change_count,
                "root_id": result.root_id, "reason": result.reason}

    run_session(cli, "watch", {"debounce_ms": debounce_ms, "generate": generate}, body)


def batch_handler(cli: CliContext, session: Session, store: EventStore) -> BatchHandler:
    """The `--generate` hook: regenerates each batch's changed nodes and their ancestors
    through one queue, its events in the watch session; the provider closes with the command."""
    generator = BatchGenerator(cli.workspace, store, session)
    click.get_current_context().call_on_close(generator.close)
    return generator


@contextmanager
def stop_on_signals(stop: WatchStop) -> Iterator[None]:
    """Turn SIGINT and SIGTERM into a clean stop for the duration of the block (only the
    main thread may set signal handlers: elsewhere this does nothing)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum: int, frame: FrameType | None) -> None:
        stop.stop(f"signal {signal.Signals(signum).name}")

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
