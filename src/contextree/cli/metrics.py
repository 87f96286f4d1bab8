"""`--metrics-port`: serve Prometheus `/metrics` beside a long-running command.

Imports `prometheus-client` (the `metrics` extra) only when asked; without it, one line says
what to install. The endpoint binds to 127.0.0.1 unless `--metrics-host` says otherwise.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from contextree.errors import UsageError
from contextree.progress import EventStore, Session

if TYPE_CHECKING:
    from contextree.export.metrics import EventMetrics

INSTALL_METRICS = "pip install 'contextree[metrics]'"


@contextmanager
def metrics_endpoint(store: EventStore, port: int | None,
                     host: str) -> Iterator[EventMetrics | None]:
    """Serve `/metrics` for the block (nothing when `port` is None)."""
    if port is None:
        yield None
        return
    try:
        from contextree.export.metrics import EventMetrics, serve_metrics
    except ImportError:
        raise UsageError(f"--metrics-port needs prometheus-client — {INSTALL_METRICS}") from None
    metrics = EventMetrics(store)
    server = serve_metrics(metrics, port, host)
    click.echo(f"metrics on http://{host}:{server.port}/metrics", err=True)
    try:
        yield metrics
    finally:
        server.close()


@contextmanager
def session_metrics(store: EventStore, session: Session, port: int | None,
                    host: str) -> Iterator[None]:
    """Serve `/metrics` fed from `session`'s own events for the block."""
    with metrics_endpoint(store, port, host) as metrics:
        if metrics is None:
            yield
            return
        from contextree.export.metrics import follow_session_metrics

        stop = threading.Event()
        thread = follow_session_metrics(metrics, store, session.session_id, stop)
        try:
            yield
        finally:
            stop.set()
            thread.join(timeout=5)
