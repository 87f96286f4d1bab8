"""Each benchmark runs in `--quick` mode, exits 0 and prints its figure lines.

No timing is asserted (timed assertions are flaky on shared machines): the figures of a quick run
are meaningless, this only keeps the scripts working as the code they measure changes.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"

FIGURES = {
    "bench_emit": [
        "emit.batch100.median_us", "emit.batch100.p99_us", "emit.single.median_us",
        "emit.single.p99_us", "emit.paced10k.median_us",
    ],
    "bench_ingest": [
        "ingest.end_to_end_eps", "ingest.commit_only_eps", "ingest.lmdb_same_batches_eps",
        "ingest.lmdb_per_event_eps",
    ],
    "bench_visibility": [
        "visibility.steady1k.p50_ms", "visibility.steady1k.p95_ms", "visibility.steady1k.max_ms",
        "visibility.burst20k.p50_ms", "visibility.burst20k.p95_ms",
    ],
    "bench_replay": [
        "replay.read_and_reduce_eps", "replay.read_only_eps", "replay.reduce_only_eps",
    ],
    "bench_export": [
        "export.otlp_http_eps", "export.mapping_only_eps", "export.encode_only_spans_per_s",
    ],
    "bench_reads": [
        "reads.events_first_line_s", "reads.show_peak_anon_mib", "reads.list_all_cpu_s",
    ],
    "bench_local_stdlib": ["local_generate.cpu_ms_per_node"],
    "bench_startup": [
        "startup.help_ms", "startup.sessions_list_ms", "startup.status_ms",
    ],
    "bench_scale": [
        "scale.list.json.200_cpu_s", "scale.show.1k_peak_anon_mib", "scale.bytes_per_event",
        "scale.prune.ms_per_session", "scale.data_mdb.after_compact_mib",
        "scale.writer.20k_peak_rss_mib", "scale.follow.2w.one_store_p95_ms",
    ],
}
TARGETED = {
    "bench_emit": 1, "bench_ingest": 1, "bench_visibility": 3, "bench_replay": 1,
    "bench_export": 1, "bench_reads": 3, "bench_local_stdlib": 1, "bench_startup": 3,
    "bench_scale": 5,
}
NUMBER = r"(?:[\d,]+(?:\.\d+)?|nan)"


@pytest.mark.parametrize("bench", sorted(FIGURES))
def test_bench_quick_runs_and_prints_figures(bench: str, tmp_path: Path) -> None:
    report = tmp_path / "figures.json"
    result = subprocess.run(
        [sys.executable, str(BENCH / f"{bench}.py"), "--quick", "--dir", str(tmp_path),
         "--json", str(report)],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for key in FIGURES[bench]:
        assert re.search(rf"^{re.escape(key)}\s+{NUMBER} \S+", out, re.MULTILINE), (key, out)
    verdicts = re.findall(r"\| target (?:<=|>=) \S+ \S+ (PASS|MISS)\b", out, re.MULTILINE)
    assert len(verdicts) == TARGETED[bench], out
    assert re.search(rf"^SUMMARY {bench}: \d+ PASS, \d+ MISS$", out, re.MULTILINE), out
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["bench"] == bench and data["quick"] is True
    assert {row["key"] for row in data["rows"]} >= set(FIGURES[bench])
    assert not list(tmp_path.glob("bench-*")), "the benchmark left its temporary store behind"


ENGINE_FIGURES = {
    "bench_scan": ["generated unchanged rescan", "generated rescan speed-up vs warm first",
                   "generated rescan speed-up vs cold first"],
    "bench_generate": ["generate.nodes_per_s", "generate.events_per_s",
                       "generate.obs_share_direct_pct"],
    "bench_tui": ["tui.first_paint_ms", "tui.live5k.p95_ms", "tui.live5k.longest_frame_ms",
                  "tui.large10k.open_ms", "tui.large10k.page_max_ms"],
}


@pytest.mark.parametrize("bench", sorted(ENGINE_FIGURES))
def test_engine_and_tui_benches_run_quick(bench: str, tmp_path: Path) -> None:
    report = tmp_path / "figures.json"
    result = subprocess.run(
        [sys.executable, str(BENCH / f"{bench}.py"), "--quick", "--json", str(report)],
        capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for label in ENGINE_FIGURES[bench]:
        assert re.search(rf"^{re.escape(label)}\s+{NUMBER} \S+", result.stdout, re.MULTILINE), (
            label, result.stdout)
    assert re.search(rf"^SUMMARY {bench}: \d+ PASS, \d+ MISS$", result.stdout, re.MULTILINE)
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["quick"] is True
    assert {row["key"] for row in data["rows"]} >= set(ENGINE_FIGURES[bench])
