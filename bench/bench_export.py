"""Export of a session as OpenTelemetry traces (target: ≥ 50,000 events/s for 100k events).

Method: the realistic `context.generate` session of `bench_replay.py` (~100,000 events) is
written through the runtime; then, median of several runs taking turns (so a drifting load
slows each alike), timed separately:
  - export: `export_sessions` to the `HttpSpanSink` `ctree export otlp` uses (hand-written
    protobuf, urllib) posting to a receiver on 127.0.0.1 that reads and discards each body —
    read, mapping, encoding, HTTP;
  - the same through the OpenTelemetry SDK (`OtlpSink`: SDK spans, the SDK's OTLP encoder and
    HTTP exporter), the path it replaced, as a baseline;
  - mapping only: a sink that keeps the span records; encoding only: the session's span
    records (mapped once) encoded in batches of `SEND_BATCH`, by hand and by the SDK.
Baselines in the same run: reading the session's events (`store.read_events`, the decode every
export needs) and the bare LMDB cursor scan.

    .venv/bin/python bench/bench_export.py [--quick] [--json PATH] [--events N]
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

from bench_replay import generation_session
from common import Baseline, Report, Target, median, parse_args, temp_dir
from contextree.export.otlp import OtlpSink, build_exporter, to_readable_span
from contextree.export.otlp_http import HttpSpanSink
from contextree.export.otlp_settings import OtlpSettings
from contextree.export.pipeline import SEND_BATCH, ExportCounts, export_sessions, session_spans
from contextree.export.spans import SpanRecord
from contextree.progress import ProgressRuntime


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


def interleaved(runs: Mapping[str, Callable[[], object]], repeats: int
                ) -> tuple[dict[str, float], dict[str, object]]:
    """Median seconds of each run, and its last result; the runs take turns, so a machine
    whose load drifts slows each of them alike."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    results: dict[str, object] = {}
    for _ in range(repeats):
        for name, fn in runs.items():
            start = time.perf_counter()
            results[name] = fn()
            times[name].append(time.perf_counter() - start)
    return {name: median(values) for name, values in times.items()}, results


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
        settings = OtlpSettings(endpoint=endpoint)
        sink, sdk_sink = HttpSpanSink(settings), OtlpSink(build_exporter(settings))
        spans = [span for _, closed in session_spans(store, sid, "completed") for span in closed]
        batches = [spans[i:i + SEND_BATCH] for i in range(0, len(spans), SEND_BATCH)]
        seconds, results = interleaved({
            "export": lambda: export_sessions(store, [sid], sink),
            "sdk": lambda: export_sessions(store, [sid], sdk_sink),
            "map": lambda: _map_only(store, sid),
            "read": lambda: store.read_events(sid),
            "raw": lambda: store.read_raw_events(sid),
            "encode": lambda: sum(len(sink.encoder.encode_request(b)) for b in batches),
            "sdk_encode": lambda: sum(len(encode_spans([to_readable_span(s) for s in b])
                                          .SerializeToString()) for b in batches),
        }, repeats)
        t_export, t_sdk, t_map = seconds["export"], seconds["sdk"], seconds["map"]
        t_read, t_raw = seconds["read"], seconds["raw"]
        t_encode, t_sdk_encode = seconds["encode"], seconds["sdk_encode"]
        counts, sdk_counts = results["export"], results["sdk"]
        kept, size, sdk_size = results["map"], results["encode"], results["sdk_encode"]
        assert isinstance(counts, ExportCounts) and isinstance(sdk_counts, ExportCounts)
        sdk_sink.close()
        runtime.close()
    server.shutdown()
    assert counts.failed_batches == 0 and counts.events == total
    assert sdk_counts.failed_batches == 0 and sdk_counts.spans == counts.spans
    report.note(f"session of {total:,} events → {counts.spans:,} spans; median of {repeats}, "
                "runs interleaved")
    report.row("export.otlp_http_eps", total / t_export, "ev/s",
               baselines=[Baseline("SDK exporter (replaced)", total / t_sdk, "ev/s"),
                          Baseline("read_events", total / t_read, "ev/s"),
                          Baseline("raw LMDB scan", total / t_raw, "ev/s")],
               target=Target(">=", 50_000), note=f"{t_export * 1000:.0f} ms for the session")
    report.row("export.mapping_only_eps", total / t_map, "ev/s",
               baselines=[Baseline("read_events", total / t_read, "ev/s")],
               note=f"{kept:,} spans, {t_map * 1000:.0f} ms")
    report.row("export.encode_only_spans_per_s", len(spans) / t_encode, "spans/s",
               baselines=[Baseline("SDK encoder", len(spans) / t_sdk_encode, "spans/s")],
               note=f"{size:,} bytes (SDK {sdk_size:,}), {t_encode * 1000:.0f} ms")
    return report.finish()


def _map_only(store: object, sid: str) -> int:
    sink = KeepSink()
    export_sessions(store, [sid], sink)  # type: ignore[arg-type]
    return sink.spans


if __name__ == "__main__":
    raise SystemExit(main())
