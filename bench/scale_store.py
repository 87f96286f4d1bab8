"""The store-size sections of `bench_scale.py`: listing many sessions, reading long ones,
pruning 90 % of a store (batched vs one transaction per session), what compaction gives back,
the bytes one stored event costs, and the peak memory of a writer of many events."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

from ulid import ULID

from bench_reads import _record, measure, write_long_session, write_many_sessions
from common import Baseline, Report, Target, temp_dir
from contextree.progress import EventStore, ProgressRuntime
from contextree.progress.compact import compact_store, store_usage
from contextree.progress.event import assemble_event, encode_payload, event_key, format_ts
from contextree.progress.session import SessionMeta

MIB = 1 << 20


def list_section(report: Report, parent: str | None, counts: list[int], rounds: int) -> None:
    startup = Baseline("ctree --help", measure(["--help"], rounds)[0], "s")
    for count in counts:
        with temp_dir(parent, "bench-scale-list-") as root:
            store = root / "store"
            write_many_sessions(store, count)
            for flag, name in (("--all", "table"), ("--json", "json")):
                cpu, _, mib = measure(["--store", str(store), "sessions", "list", flag], rounds)
                report.row(f"scale.list.{name}.{_k(count)}_cpu_s", cpu, "s",
                           baselines=[startup], note=f"peak anon {mib:.0f} MiB")


def reads_section(report: Report, parent: str | None, counts: list[int], rounds: int) -> None:
    startup_cpu, _, startup_mib = measure(["--help"], rounds)
    for count in counts:
        with temp_dir(parent, "bench-scale-reads-") as root:
            store = root / "store"
            write_long_session(store, count)
            for command in ("show", "replay", "events"):
                cpu, first, mib = measure(["--store", str(store), "sessions", command, "last"],
                                          rounds)
                report.row(f"scale.{command}.{_k(count)}_cpu_s", cpu, "s",
                           baselines=[Baseline("ctree --help", startup_cpu, "s")],
                           note=f"first line {first * 1000:.0f} ms")
                report.row(f"scale.{command}.{_k(count)}_peak_anon_mib", mib, "MiB",
                           baselines=[Baseline("ctree --help", startup_mib, "MiB")],
                           target=Target("<=", 150) if command != "events" else None)


def write_sessions_with_events(store_path: Path, sessions: int, events: int) -> int:
    """`sessions` ended sessions of `events` `queue_stats` events each, oldest first."""
    store = EventStore.open(store_path)
    started = time.time() - 30 * 86400
    try:
        for index in range(sessions):
            at = started + index * 60
            session_id, ts = str(ULID.from_timestamp(at)), format_ts(at)
            pairs = [(event_key(session_id, seq), assemble_event(
                ts, session_id, seq, "queue_stats",
                encode_payload({"pending": seq, "running": 4, "path": f"src/m{seq}.py"})))
                for seq in range(1, events + 1)]
            meta = SessionMeta(next_seq=events + 1, status="completed", last_ts=ts,
                               event_count=events)
            store.commit_batch(records={session_id: _record(session_id, at)}, events=pairs,
                               metas={session_id: meta})
    finally:
        store.close()
    return sessions * events


def prune_section(report: Report, parent: str | None, sessions: int, events: int) -> None:
    keep = sessions // 10
    with temp_dir(parent, "bench-scale-prune-") as root:
        batched, single = root / "batched", root / "single"
        stored = write_sessions_with_events(batched, sessions, events)
        single.mkdir()
        shutil.copy(batched / "data.mdb", single / "data.mdb")
        store = EventStore.open(batched)
        usage = store_usage(store)
        used = usage.size_bytes - usage.free_bytes
        report.row("scale.bytes_per_event", used / stored, "B",
                   note=f"{stored:,} events in {sessions:,} sessions, pages in use / events")
        start = time.perf_counter()
        removed = len(store.prune(max_age_s=None, max_count=keep, now_s=time.time()).removed)
        batched_s = time.perf_counter() - start
        store.close()
        store = EventStore.open(single)
        start = time.perf_counter()
        doomed = [r.session_id for r in store.list_sessions()[keep:]]
        for session_id in doomed:
            store._delete(session_id)  # one write transaction per session: the old path
        single_s = time.perf_counter() - start
        store.close()
        per_session = Baseline("one transaction per session", single_s / len(doomed) * 1000,
                               "ms")
        report.row("scale.prune.ms_per_session", batched_s / removed * 1000, "ms",
                   baselines=[per_session], target=Target("<=", per_session.value / 10),
                   note=f"{removed:,} of {sessions:,} sessions, {events} events each")
        before = usage.size_bytes
        pruned = (batched / "data.mdb").stat().st_size
        result = compact_store(batched)
        report.row("scale.data_mdb.before_prune_mib", before / MIB, "MiB")
        report.row("scale.data_mdb.after_prune_mib", pruned / MIB, "MiB",
                   baselines=[Baseline("before prune", before / MIB, "MiB")])
        report.row("scale.data_mdb.after_compact_mib", result.after_bytes / MIB, "MiB",
                   baselines=[Baseline("before prune", before / MIB, "MiB")],
                   note=f"compact freed {result.freed_bytes / MIB:.1f} MiB")


def big_writer(store: str, events: int) -> int:
    """The writer subprocess: `events` emits as fast as possible, then its peak RSS."""
    runtime = ProgressRuntime.open(store)
    session = runtime.session("bench.scale.writer")
    emit = session.emit
    for seq in range(events):
        emit("queue_stats", {"pending": seq, "running": 4, "path": "src/pkg/module.py"})
    session.end()
    runtime.close()
    print(f"PEAK_KIB {_peak_rss_kib()}", flush=True)
    return 0


def writer_section(report: Report, script: str, parent: str | None, events: int) -> None:
    peaks = {}
    for label, count in (("idle", 0), ("busy", events)):
        with temp_dir(parent, "bench-scale-writer-") as root:
            out = subprocess.run(
                [sys.executable, script, "--role", "big-writer", "--store", str(root / "s"),
                 "--events", str(count)], capture_output=True, text=True, check=True).stdout
            peaks[label] = int(out.split("PEAK_KIB")[1].split()[0]) / 1024
    report.row(f"scale.writer.{_k(events)}_peak_rss_mib", peaks["busy"], "MiB",
               baselines=[Baseline("a session with no events", peaks["idle"], "MiB")],
               target=Target("<=", 100))


def _peak_rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def _k(count: int) -> str:
    if count >= 1_000_000 and count % 1_000_000 == 0:
        return f"{count // 1_000_000}M"
    if count >= 1000 and count % 1000 == 0:
        return f"{count // 1000}k"
    return str(count)
