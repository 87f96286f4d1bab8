"""`ctree export otlp --follow`: run the live bridge until SIGINT or SIGTERM.

The bridge reads the store from its own process (read-only use: it creates no session), ships
spans as they close and says in one line when the endpoint goes down or comes back.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import click

from contextree.cli.common import CliContext, open_store_readonly
from contextree.cli.metrics import metrics_endpoint
from contextree.export.bridge import Bridge, Checkpoint
from contextree.export.otlp_settings import OtlpSettings, quiet_sender_logs
from contextree.export.pipeline import SpanSink

CHECKPOINT_NAME = "otlp-follow.json"


def run_bridge(cli: CliContext, settings: OtlpSettings, sink: SpanSink, checkpoint: str | None,
               metrics_port: int | None, metrics_host: str) -> None:
    """Follow the store and ship spans to `sink` (`settings`' endpoint) until a stop
    signal; the caller closes the sink."""
    quiet_sender_logs()
    path = Path(checkpoint) if checkpoint else cli.workspace.ctree_dir / CHECKPOINT_NAME
    store = open_store_readonly(cli)
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set())
                for sig in (signal.SIGINT, signal.SIGTERM)}
    where = settings.describe()
    try:
        with metrics_endpoint(store, metrics_port, metrics_host) as metrics:
            bridge = Bridge(store, sink, Checkpoint.load(path), _say, endpoint=where,
                            observe=metrics.observe if metrics is not None else None)
            _say(f"following {cli.workspace.store_path} → {where} (Ctrl-C to stop)")
            counts = bridge.run(stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        store.close()
    _say(f"stopped: {counts.events:,} events → {counts.spans_sent:,} spans sent"
         + (f", {counts.spans_dropped:,} dropped while the endpoint was down"
            if counts.spans_dropped else ""))


def _say(line: str) -> None:
    click.echo(line, err=True)
