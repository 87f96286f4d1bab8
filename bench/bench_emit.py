"""`Session.emit()` cost on the caller, while the ingestor thread commits (SPEC §9: ≤ 5 µs median).

Method: `time.perf_counter_ns` around batches of 100 calls (the per-call figure is the batch
time / 100, so the timer's own cost is spread out), emitting a realistic payload in a tight
loop while the ingestor drains and commits concurrently in the same process (it competes for the
GIL, as in real use). Single calls are also timed one by one (tight loop, and paced at
10,000 events/s so that nearly every emit wakes the ingestor). Baselines in the same run, timed
the same way: a bare `queue.SimpleQueue.put` of the same 4-tuple emit enqueues, `json.dumps` of
the payload, and `msgspec.json.encode` (the codec emit uses). Figures are the median over rounds
of each round's statistic.

    .venv/bin/python bench/bench_emit.py [--quick] [--json PATH]
"""

from __future__ import annotations

import json
import queue
import time
from collections.abc import Callable

import msgspec

from common import PAYLOAD, Baseline, Report, Target, median, parse_args, percentile, temp_dir
from contextree.progress import ProgressRuntime

BATCH = 100
EVENT_TYPE = "node_generation_started"


def time_batches(fn: Callable[[], None], batches: int) -> list[float]:
    """Per-call µs of `batches` batches of BATCH calls of `fn`."""
    clock = time.perf_counter_ns
    out = []
    for _ in range(batches):
        start = clock()
        for _ in range(BATCH):
            fn()
        out.append((clock() - start) / BATCH / 1000.0)
    return out


def time_singles(fn: Callable[[], None], calls: int, interval_s: float = 0.0) -> list[float]:
    """µs of each of `calls` calls, timed one by one; paced every `interval_s` if > 0."""
    clock = time.perf_counter_ns
    out = []
    next_due = time.perf_counter()
    for _ in range(calls):
        if interval_s:
            next_due += interval_s
            while time.perf_counter() < next_due:
                pass
        start = clock()
        fn()
        out.append((clock() - start) / 1000.0)
    return out


Keep = Callable[[str, float], None]


def emit_round(parent: str | None, batches: int, singles: int, paced: int, keep: Keep) -> int:
    """Time emits in a fresh store; returns how many events the ingestor drained meanwhile."""
    with temp_dir(parent, "bench-emit-") as path:
        runtime = ProgressRuntime.open(path / "store")
        session = runtime.session("bench.emit")
        emit = session.emit

        def call() -> None:
            emit(EVENT_TYPE, PAYLOAD)

        time_batches(call, max(batches // 10, 10))  # warm up
        runtime.flush()
        pending_before = runtime.bus.pending()
        per_call = time_batches(call, batches)
        drained = batches * BATCH + pending_before - runtime.bus.pending()
        keep("emit_batch_median", median(per_call))
        keep("emit_batch_p99", percentile(per_call, 99))
        single = time_singles(call, singles)
        keep("emit_single_median", median(single))
        keep("emit_single_p99", percentile(single, 99))
        keep("emit_single_max", max(single))
        runtime.flush()
        paced_calls = time_singles(call, paced, interval_s=1e-4)
        keep("emit_paced_median", median(paced_calls))
        keep("emit_paced_p99", percentile(paced_calls, 99))
        session.end()
        runtime.close()
    return drained


def baseline_round(batches: int, singles: int, keep: Keep) -> None:
    """The baselines, timed the same way as emit."""
    bare: queue.SimpleQueue[tuple[str, str, bytes, float]] = queue.SimpleQueue()
    item = ("01JDBENCHBENCHBENCHBENCHBE", EVENT_TYPE, msgspec.json.encode(PAYLOAD), time.time())
    put = bare.put

    def put_call() -> None:
        put(item)

    per_put = time_batches(put_call, batches)
    keep("put_batch_median", median(per_put))
    keep("put_batch_p99", percentile(per_put, 99))
    keep("put_single_median", median(time_singles(put_call, singles)))
    dumps = json.dumps
    per_dumps = time_batches(lambda: dumps(PAYLOAD), batches)
    keep("dumps_batch_median", median(per_dumps))
    keep("dumps_batch_p99", percentile(per_dumps, 99))
    encode = msgspec.json.encode
    keep("msgspec_batch_median", median(time_batches(lambda: encode(PAYLOAD), batches)))
    keep("timer_single_median", median(time_singles(lambda: None, singles)))


def main() -> int:
    args = parse_args(__doc__.splitlines()[0])
    report = Report("bench_emit", args)
    rounds = 1 if args.quick else 5
    batches = 100 if args.quick else 2_000
    singles = 2_000 if args.quick else 20_000
    paced = 500 if args.quick else 10_000
    report.note(
        f"{rounds} round(s); each: {batches} batches × {BATCH} emits, {singles} single timed "
        f"emits, {paced} paced single emits at 10,000/s; payload {json.dumps(PAYLOAD)}; "
        "figures are the median over rounds"
    )

    stats: dict[str, list[float]] = {}

    def keep(name: str, value: float) -> None:
        stats.setdefault(name, []).append(value)

    drained_during = []
    for _ in range(rounds):
        drained_during.append(emit_round(args.dir, batches, singles, paced, keep))
        baseline_round(batches, singles, keep)

    s = {name: median(values) for name, values in stats.items()}
    report.note(
        "the ingestor drained "
        + ", ".join(f"{n:,}" for n in drained_during)
        + f" events from the bus during the timed batches of each round "
        f"(of {batches * BATCH:,} emitted)"
    )
    report.note(
        f"single-call timings include the timer's own cost: an empty timed call measures "
        f"{s['timer_single_median']:.3f} µs"
    )
    put_b = Baseline("SimpleQueue.put", s["put_batch_median"], "µs")
    dumps_b = Baseline("json.dumps", s["dumps_batch_median"], "µs")
    report.row("emit.batch100.median_us", s["emit_batch_median"], "µs",
               baselines=[put_b, dumps_b, Baseline("msgspec.encode", s["msgspec_batch_median"],
                                                   "µs")],
               target=Target("<=", 5.0))
    report.row("emit.batch100.p99_us", s["emit_batch_p99"], "µs",
               baselines=[Baseline("SimpleQueue.put p99", s["put_batch_p99"], "µs"),
                          Baseline("json.dumps p99", s["dumps_batch_p99"], "µs")])
    report.row("emit.single.median_us", s["emit_single_median"], "µs",
               baselines=[Baseline("SimpleQueue.put", s["put_single_median"], "µs")])
    report.row("emit.single.p99_us", s["emit_single_p99"], "µs")
    report.row("emit.single.max_us", s["emit_single_max"], "µs",
               note="the worst call: the caller waited for the GIL held by the ingestor")
    report.row("emit.paced10k.median_us", s["emit_paced_median"], "µs",
               note="one emit every 100 µs: nearly each wakes the ingestor")
    report.row("emit.paced10k.p99_us", s["emit_paced_p99"], "µs")
    return report.finish()


if __name__ == "__main__":
    raise SystemExit(main())
