"""Prometheus metrics of long-running work, from the events themselves (the `metrics` extra).

`EventMetrics.observe(events)` counts what the events say — events by type, provider requests
by provider and outcome, provider latency, tokens in and out, the queue's depth — and, at each
scrape, the store's sessions by status. `serve_metrics` exposes `/metrics` on 127.0.0.1 unless
told otherwise; `follow_session_metrics` feeds it from a session's stored events in a thread.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from contextree.progress.event import Event
from contextree.progress.follow import Follower
from contextree.progress.session import ACTIVE, COMPLETED, FAILED, INTERRUPTED
from contextree.progress.store import EventStore

DEFAULT_METRICS_HOST = "127.0.0.1"
LATENCY_BUCKETS_S = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
QUEUE_STATES = ("pending", "in_flight", "retrying")


class EventMetrics:
    """The metrics of a registry of its own, updated from events."""

    def __init__(self, store: EventStore | None = None) -> None:
        self.registry = CollectorRegistry()
        self.events = Counter("ctree_events", "Events seen, by type", ["type"],
                              registry=self.registry)
        self.requests = Counter("ctree_provider_requests", "Provider requests by outcome "
                                "(ok or the error kind)", ["provider", "outcome"],
                                registry=self.registry)
        self.latency = Histogram("ctree_provider_request_duration_seconds",
                                 "Provider request latency", ["provider"],
                                 buckets=LATENCY_BUCKETS_S, registry=self.registry)
        self.tokens = Counter("ctree_tokens", "Tokens sent to and received from providers",
                              ["provider", "direction"], registry=self.registry)
        self.queue = Gauge("ctree_queue_depth", "Generation queue depth by state", ["state"],
                           registry=self.registry)
        if store is not None:
            self.registry.register(SessionStatusCollector(store))

    def observe(self, events: Iterable[Event]) -> None:
        for event in events:
            self.events.labels(event.type).inc()
            data = event.data
            if event.type == "provider_response_received":
                self._request(data, "ok")
                for direction, name in (("in", "input_tokens"), ("out", "output_tokens")):
                    value = data.get(name)
                    if isinstance(value, int):
                        self.tokens.labels(_provider(data), direction).inc(value)
            elif event.type == "provider_request_failed":
                self._request(data, str(data.get("error_kind", "other")))
            elif event.type == "queue_stats":
                for state in QUEUE_STATES:
                    value = data.get(state)
                    if isinstance(value, int):
                        self.queue.labels(state).set(value)

    def _request(self, data: dict[str, object], outcome: str) -> None:
        self.requests.labels(_provider(data), outcome).inc()
        duration = data.get("duration_ms")
        if isinstance(duration, int | float):
            self.latency.labels(_provider(data)).observe(duration / 1000)


class SessionStatusCollector(Collector):
    """`ctree_sessions{status}`: the store's sessions by effective status, read at scrape."""

    def __init__(self, store: EventStore) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily("ctree_sessions", "Sessions in the store by status",
                                   labels=["status"])
        counts = dict.fromkeys((ACTIVE, COMPLETED, FAILED, INTERRUPTED), 0)
        for record in self.store.list_sessions():
            counts[record.status] = counts.get(record.status, 0) + 1
        for status, count in counts.items():
            family.add_metric([status], count)
        yield family


class MetricsServer:
    """A running `/metrics` endpoint; `port` is the bound one (useful with port 0)."""

    def __init__(self, server: WSGIServer, thread: threading.Thread) -> None:
        self.server, self.thread = server, thread
        self.port = int(server.server_port)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def serve_metrics(metrics: EventMetrics, port: int,
                  host: str = DEFAULT_METRICS_HOST) -> MetricsServer:
    server, thread = start_http_server(port, addr=host, registry=metrics.registry)
    return MetricsServer(server, thread)


def follow_session_metrics(metrics: EventMetrics, store: EventStore, session_id: str,
                           stop: threading.Event) -> threading.Thread:
    """Feed `metrics` from a session's stored events until it ends or `stop` is set."""
    def run() -> None:
        follower = Follower(store, session_id)
        while not follower.finished and not stop.is_set():
            metrics.observe(follower.wait(1.0, poll_interval=0.05, stop=stop))

    thread = threading.Thread(target=run, name="metrics-follower", daemon=True)
    thread.start()
    return thread


def _provider(data: dict[str, object]) -> str:
    return str(data.get("provider_name", ""))
