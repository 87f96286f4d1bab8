"""Export of a session as OpenTelemetry traces (target: ≥ 50,000 events/s for 100k events).

Method: the realistic `context.generate` session of `bench_replay.py` (~100,000 events) is
written through the runtime; then, median of several runs, timed separately:
  - export: `export_sessions` to an `OtlpSink` over OTLP/HTTP (protobuf) to a receiver on
    127.0.0.1 that reads and discards each body — read, mapping, SDK spans, encoding, HTTP;
  - mapping only: the same to a sink that keeps the span records (no OpenTelemetry at all).
Baselines in the same run: reading the session's events (`store.read_events`, the decode every
export needs) and the bare LMDB cursor scan.

    .venv/bin/python bench/bench_export.py [--quick] [--json PATH] [--events N]
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TypeVar

from bench_replay import generation_session
from common import Baseline, Report, Target, median, parse_args, temp_dir
from contextree.export.otlp import OtlpSink, build_exporter
from contextree.export.otlp_settings import OtlpSettings
from contextree.export.pipeline import export_sessions
from contextree.export.spans import SpanRecord
from contextree.progress import ProgressRuntime

T = TypeVar("T")


class Discard(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


class KeepSink:
    def __init__(self) -> None:
        self.spans = 0

    def send(self, spans: Sequence[SpanRecord]) -> bool:
        self.spans += len(spans)
        return True


def timed(fn: Callable[[], T], repeats: int) -> tuple[float, T]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    assert result is not None
    return median(times), result


def main() -> int:
    args = parse_args(__doc__.splitlines()[0], [
        ("--events", {"type": int, "default": None, "help": "approximate session size"})])
    report = Report("bench_export", args)
    target = args.events or (3_000 if args.quick else 100_000)
    repeats = 1 if args.quick else 3
    server = ThreadingHTTPServer(("127.0.0.1", 0), Discard)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    with temp_dir(args.dir, "bench-export-") as path:
        runtime = ProgressRuntime.open(path / "store")
        with runtime.session("context.generate", args={"path": "."}) as session:
            for event_type, data in generation_session(target):
                session.emit(event_type, data)
        runtime.flush()
        store, sid = runtime.store, session.session_id
        total = len(store.read_raw_events(sid))
        sink = OtlpSink(build_exporter(OtlpSettings(endpoint=endpoint)))
        t_export, counts = timed(lambda: export_sessions(store, [sid], sink), repeats)
        t_map, kept = timed(lambda: _map_only(store, sid), repeats)
        t_read, _ = timed(lambda: store.read_events(sid), repeats)
        t_raw, _ = timed(lambda: store.read_raw_events(sid), repeats)
        sink.close()
        runtime.close()
    server.shutdown()
    assert counts.failed_batches == 0 and counts.events == total
    report.note(f"session of {total:,} events → {counts.spans:,} spans; median of {repeats}")
    report.row("export.otlp_http_eps", total / t_export, "ev/s",
               baselines=[Baseline("read_events", total / t_read, "ev/s"),
                          Baseline("raw LMDB scan", total / t_raw, "ev/s")],
               target=Target(">=", 50_000), note=f"{t_export * 1000:.0f} ms for the session")
    report.row("export.mapping_only_eps", total / t_map, "ev/s",
               baselines=[Baseline("read_events", total / t_read, "ev/s")],
               note=f"{kept:,} spans, {t_map * 1000:.0f} ms")
    return report.finish()


def _map_only(store: object, sid: str) -> int:
    sink = KeepSink()
    export_sessions(store, [sid], sink)  # type: ignore[arg-type]
    return sink.spans


if __name__ == "__main__":
    raise SystemExit(main())
