"""Bounded memory: a writer that emits far faster than the disk commits stays small.

The bus is bounded by bytes (`DEFAULT_CAPACITY_BYTES`): once that much waits for the
ingestor, emit waits for it. A process emitting 1M events in a tight loop (400k unless
`--long`) peaks under 100 MB of RSS; before the bound it held every pending event (163 MB
for 1M).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.reliability.figures import report_figures
from tests.support.processes import ROOT

PEAK_RSS_LIMIT_KIB = 100 * 1000

TIGHT_WRITER = """
import sys
from contextree.progress import ProgressRuntime
def high_water_kib():
    # VmHWM belongs to this program's memory map: unlike ru_maxrss, it does not carry the
    # peak of the (large) test process this one was forked from across exec
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise SystemExit("no VmHWM in /proc/self/status")
count = int(sys.argv[2])
with ProgressRuntime.open(sys.argv[1]) as runtime:
    with runtime.session("memory.writer") as session:
        opened = high_water_kib()
        for index in range(count):
            session.emit("queue_stats", {"pending": index, "in_flight": 3, "completed": index,
                                         "failed": 0, "deduplicated": 0, "retrying": 0})
    meta = runtime.store.get_meta(session.session_id)
    peak = high_water_kib()
print("OPENED_KIB", opened, "PEAK_KIB", peak, "STORED", meta.event_count)
"""


@pytest.mark.slow
def test_a_tight_writer_of_a_million_events_stays_under_100_mb(
    tmp_path: Path, long_mode: bool
) -> None:
    count = 1_000_000 if long_mode else 400_000
    result = subprocess.run(
        [sys.executable, "-c", TIGHT_WRITER, str(tmp_path / "store"), str(count)],
        capture_output=True, text=True, timeout=900, cwd=ROOT, check=False,
    )
    assert result.returncode == 0, result.stderr
    fields = result.stdout.split()
    opened_kib, peak_kib, stored = int(fields[1]), int(fields[3]), int(fields[5])
    report_figures("memory: tight writer", events=count, opened_mb=opened_kib / 1000,
                   peak_mb=peak_kib / 1000, limit_mb=PEAK_RSS_LIMIT_KIB / 1000)
    assert stored == count + 2, "every event is stored (started and ended besides)"
    assert peak_kib < PEAK_RSS_LIMIT_KIB
