"""Emit → visible in another process (SPEC §9: at 1,000 events/s p50 ≤ 10 ms, p95 ≤ 25 ms;
burst of 20,000 events/s p95 ≤ 100 ms).

Method: a writer subprocess opens the runtime, starts a session and, once the reader is ready,
emits at a steady rate (each event's payload carries `t_emit = time.time()` taken just before
`emit`), then pauses and emits a burst at a higher rate, then ends the session. This process is
the reader: a `Follower` on the same store, `Follower.wait` (= `poll` in a loop, sleeping the
default 2 ms between polls while nothing was committed), recording `time.time() - t_emit` for
each event when the poll that returned it comes back (decoding included). Both processes run on
this machine and read the same wall clock (`time.time()`, CLOCK_REALTIME), so the differences
are comparable. Percentiles are over the events of all runs pooled; each run is also listed.

Baselines: the seed's targets (p50 150 ms, p95 500 ms), and the floor measured in the same run:
the latency of one durable single-event LMDB write transaction (fsync) on the same filesystem.

    .venv/bin/python bench/bench_visibility.py [--quick] [--json PATH] [--runs N]
"""

from __future__ import annotations

import argparse
import functools
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import (
    NODE_ID,
    Baseline,
    Report,
    Target,
    emit_paced,
    median,
    parse_args,
    percentile,
    temp_dir,
)
from contextree.progress import ProgressRuntime
from contextree.progress.follow import DEFAULT_POLL_INTERVAL_S, Follower
from contextree.progress.store import EventStore

SEED_P50_MS, SEED_P95_MS = 150.0, 500.0
PAUSE_BETWEEN_PHASES_S = 0.5


def phases(quick: bool) -> list[tuple[str, int, float]]:
    """(name, events/s, seconds) of each phase."""
    if quick:
        return [("steady1k", 1_000, 0.5), ("burst20k", 20_000, 0.3)]
    return [("steady1k", 1_000, 5.0), ("burst20k", 20_000, 2.0)]


# -- the writer subprocess --------------------------------------------------------------------


def _phase_event(emit: Callable[[str, dict[str, Any]], None], phase: str, i: int) -> None:
    emit("node_generation_started", {
        "phase": phase, "i": i, "path": f"src/pkg/module_{i}.py",
        "node_id": NODE_ID, "level_index": 2, "t_emit": time.time(),
    })


def writer(store: str, plan: list[tuple[str, int, float]]) -> int:
    runtime = ProgressRuntime.open(store)
    session = runtime.session("bench.visibility")
    print(f"SESSION {session.session_id}", flush=True)
    if sys.stdin.readline().strip() != "GO":
        return 2
    emit = session.emit
    sent: dict[str, int] = {}
    clock = time.perf_counter
    for index, (name, rate, seconds) in enumerate(plan):
        if index:
            time.sleep(PAUSE_BETWEEN_PHASES_S)
        start = clock()
        done = emit_paced(functools.partial(_phase_event, emit, name), rate, seconds)
        sent[name] = done
        achieved = done / (clock() - start)
        print(f"PHASE {name} sent={done} rate={achieved:.0f}", flush=True)
    session.end()
    runtime.close()
    print("DONE", flush=True)
    return 0


# -- the reader (this process) ----------------------------------------------------------------


def commit_floor_ms(parent: Path, count: int) -> list[float]:
    """Latency of `count` durable single-event write transactions in a scratch store."""
    store = EventStore.open(parent / "floor")
    value = b'{"ts":"2026-11-24T13:33:59.827Z","data":{"path":"src/a.py"}}'
    out = []
    for i in range(count):
        start = time.perf_counter()
        store.write(lambda txn, i=i: txn.put(b"k%020d" % i, value, db=store.events_db))
        out.append((time.perf_counter() - start) * 1000)
    store.close()
    return out


def run_once(args: argparse.Namespace, plan: list[tuple[str, int, float]]) -> dict[str, Any]:
    with temp_dir(args.dir, "bench-visibility-") as path:
        floor = commit_floor_ms(path, 50 if args.quick else 300)
        store_path = path / "store"
        EventStore.open(store_path).close()
        proc = subprocess.Popen(
            [sys.executable, __file__, "--role", "writer", "--store", str(store_path)]
            + (["--quick"] if args.quick else []),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        assert proc.stdin is not None and proc.stdout is not None
        line = proc.stdout.readline().split()
        assert line and line[0] == "SESSION", line
        session_id = line[1]
        store = EventStore.open(store_path, create=False)
        follower = Follower(store, session_id, after_seq=1)
        latencies: dict[str, list[float]] = {name: [] for name, _, _ in plan}
        seqs: list[int] = []
        polls = 0
        proc.stdin.write("GO\n")
        proc.stdin.flush()
        deadline = time.monotonic() + sum(s for _, _, s in plan) + 30
        while not follower.finished and time.monotonic() < deadline:
            events = follower.wait(1.0)
            arrived = time.time()
            polls += 1
            for event in events:
                seqs.append(event.seq)
                t_emit = event.data.get("t_emit")
                if t_emit is not None:
                    latencies[event.data["phase"]].append((arrived - t_emit) * 1000)
        out, _ = proc.communicate(timeout=30)
        store.close()
    assert proc.returncode == 0, (proc.returncode, out)
    sent = {}
    rates = {}
    for entry in out.splitlines():
        if entry.startswith("PHASE"):
            _, name, sent_field, rate_field = entry.split()
            sent[name] = int(sent_field.split("=")[1])
            rates[name] = float(rate_field.split("=")[1])
    contiguous = seqs == list(range(2, 2 + len(seqs)))
    return {"latencies": latencies, "sent": sent, "rates": rates, "floor": floor,
            "contiguous": contiguous, "polls": polls}


def main() -> int:
    args = parse_args(
        __doc__.splitlines()[0],
        [
            ("--runs", {"type": int, "default": None, "help": "repetitions (default 3)"}),
            ("--role", {"default": "reader", "help": argparse.SUPPRESS}),
            ("--store", {"default": None, "help": argparse.SUPPRESS}),
        ],
    )
    plan = phases(args.quick)
    if args.role == "writer":
        return writer(args.store, plan)
    report = Report("bench_visibility", args)
    runs = args.runs or (1 if args.quick else 3)
    report.note(
        f"{runs} run(s); phases: "
        + ", ".join(f"{name} {rate:,}/s for {sec} s" for name, rate, sec in plan)
        + f"; reader: Follower.wait, poll interval {DEFAULT_POLL_INTERVAL_S * 1000:g} ms; "
        "percentiles over all runs' events pooled"
    )
    pooled: dict[str, list[float]] = {name: [] for name, _, _ in plan}
    floor: list[float] = []
    for index in range(1, runs + 1):
        result = run_once(args, plan)
        floor.extend(result["floor"])
        for name, _, _ in plan:
            values = result["latencies"][name]
            lost = result["sent"].get(name, 0) - len(values)
            pooled[name].extend(values)
            report.note(
                f"run {index} {name}: sent {result['sent'].get(name, 0):,} at "
                f"{result['rates'].get(name, 0):,.0f}/s, received {len(values):,} "
                f"(lost {lost}), p50 {median(values):.2f} ms, p95 {percentile(values, 95):.2f} ms, "
                f"max {max(values, default=float('nan')):.2f} ms"
            )
        report.note(f"run {index}: seq contiguous and in order: {result['contiguous']}; "
                    f"{result['polls']:,} reader wake-ups with events or timeouts")
    floor_b50 = Baseline("floor: 1-event fsync commit p50", median(floor), "ms")
    floor_b95 = Baseline("floor p95", percentile(floor, 95), "ms")
    steady = pooled["steady1k"]
    burst = pooled["burst20k"]
    report.row("visibility.steady1k.p50_ms", median(steady), "ms",
               baselines=[Baseline("seed p50", SEED_P50_MS, "ms"), floor_b50],
               target=Target("<=", 10.0))
    report.row("visibility.steady1k.p95_ms", percentile(steady, 95), "ms",
               baselines=[Baseline("seed p95", SEED_P95_MS, "ms"), floor_b95],
               target=Target("<=", 25.0))
    report.row("visibility.steady1k.p99_ms", percentile(steady, 99), "ms")
    report.row("visibility.steady1k.max_ms", max(steady, default=float("nan")), "ms")
    report.row("visibility.burst20k.p50_ms", median(burst), "ms",
               baselines=[Baseline("seed p50", SEED_P50_MS, "ms")])
    report.row("visibility.burst20k.p95_ms", percentile(burst, 95), "ms",
               baselines=[Baseline("seed p95", SEED_P95_MS, "ms")],
               target=Target("<=", 100.0))
    report.row("visibility.burst20k.p99_ms", percentile(burst, 99), "ms")
    report.row("visibility.burst20k.max_ms", max(burst, default=float("nan")), "ms")
    return report.finish()


if __name__ == "__main__":
    raise SystemExit(main())
