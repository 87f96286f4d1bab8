"""Crash loop: writers SIGKILLed at random moments, including during store open.

After every kill the checker proves: no acknowledged event lost, seq contiguous with no gap
or duplicate, no partial batch (meta agrees with events), the store opens cleanly, and the
killed session reads `interrupted`. CI runs 200 kills; `--long` runs 1,000.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

from contextree.progress import ProgressRuntime
from tests.reliability.checker import check_store
from tests.reliability.figures import report_figures
from tests.reliability.forked import run_killed_child


def raw_writer(store: Path, flush_every: int) -> Callable[[Callable[[str], None]], None]:
    def body(report: Callable[[str], None]) -> None:
        runtime = ProgressRuntime.open(store)
        session = runtime.session("crash.raw", {"flush_every": flush_every})
        report("S" + session.session_id)
        index = 0
        while True:
            index += 1
            session.emit("queue_stats", {"n": index, "pending": index % 7})
            if index % flush_every == 0:
                runtime.flush()
                report(f"A{index}")

    return body


def test_kill_9_crash_loop_loses_nothing_acknowledged(tmp_path: Path, long_mode: bool) -> None:
    runs = 1000 if long_mode else 200
    rng = random.Random(20261124)
    store = tmp_path / "store"
    totals = {"runs": 0, "acknowledged": 0, "stored": 0, "killed_before_start": 0}
    for _ in range(runs):
        flush_every = rng.choice([1, 7, 50, 400])
        report = run_killed_child(raw_writer(store, flush_every), rng.uniform(0.0, 0.06))
        totals["runs"] += 1
        if report.session_id is None:
            totals["killed_before_start"] += 1
            continue
        check = check_store(store, only={report.session_id})
        assert check.violations == []
        assert check.by_status == {"interrupted": 1}
        with ProgressRuntime.open(store) as runtime:
            numbers = [e.data["n"] for e in runtime.store.read_events(report.session_id)
                       if e.type == "queue_stats"]
        assert numbers == list(range(1, len(numbers) + 1))
        assert len(numbers) >= report.acknowledged, "an acknowledged event was lost"
        totals["acknowledged"] += report.acknowledged
        totals["stored"] += len(numbers)
    final = check_store(store)
    assert final.violations == []
    assert set(final.by_status) <= {"interrupted"}
    assert totals["runs"] == runs and totals["acknowledged"] > 0
    report_figures("crash loop (raw writer, kill -9)", **totals, lost=0,
                   sessions=final.sessions, store_events=final.events, violations=0)
