"""Streaming reads through `ctree` itself (issue targets: a 1M-event session read with bounded
memory, its first event line at once; a 10,000-row `sessions list --all` under 1 s).

Method: one store gets a session of N events (1M; `queue_stats` with a
`node_generation_started` every 100th), another M ended sessions (10,000), both written
straight through `EventStore.commit_batch`. Each command then runs as a real process
(`python -m contextree`), several times (median reported): CPU time (user + system), wall
time to the first stdout line, and peak anonymous memory (`RssAnon` of /proc, sampled every
2 ms: the store's memory-mapped pages are file-backed and excluded, as the kernel can drop
them). Baseline in the same run: `ctree --help` (the interpreter and CLI start-up, which every
command pays). Every process runs with a warm bytecode cache of its own, as an installed copy
does (each command runs once untimed first).

The first line of `sessions events` is timed apart, in 7 interleaved rounds of three processes
each stopped once its first line arrived: `ctree --help` (whose first line is its usage
line), `sessions events` of a 10-event session and of the 1M-event one. The figure is the
latter's median minus `--help`'s (the latency after start-up; target 50 ms), beside the total
and the 10-event session's (the same start-up and store opening, nothing to stream). The same
difference in CPU time (`/proc/PID/schedstat` read when the first line arrives) follows: on a
loaded machine it moves far less than wall time.

    .venv/bin/python bench/bench_reads.py [--quick] [--json PATH] [--dir PATH]
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from ulid import ULID

from common import Baseline, Report, Target, child_env, median, parse_args, temp_dir
from contextree.progress import EventStore
from contextree.progress.event import assemble_event, encode_payload, event_key, format_ts
from contextree.progress.session import SessionMeta, SessionRecord

BATCH = 50_000
ENV: dict[str, str] = {}
"""The measured processes' environment (a warm bytecode cache), set by `main`."""


def _record(session_id: str, at: float) -> SessionRecord:
    return SessionRecord(session_id=session_id, command="context.generate", args={},
                         workspace=None, pid=1, host=socket.gethostname(), proc_start=0.0,
                         started_at=format_ts(at), ended_at=format_ts(at + 5),
                         status="completed")


def _event_of(seq: int) -> tuple[str, bytes]:
    if seq % 100 == 0:
        return "node_generation_started", encode_payload({"path": f"src/m{seq}.py"})
    return "queue_stats", encode_payload({"pending": seq, "running": 4})


def write_long_session(store_path: Path, count: int) -> None:
    store = EventStore.open(store_path)
    at = time.time() - 3600
    session_id, ts = str(ULID.from_timestamp(at)), format_ts(at)
    try:
        for first in range(1, count + 1, BATCH):
            last = min(count, first + BATCH - 1)
            events = [(event_key(session_id, seq),
                       assemble_event(ts, session_id, seq, *_event_of(seq)))
                      for seq in range(first, last + 1)]
            meta = SessionMeta(next_seq=last + 1, status="completed", last_ts=ts,
                               event_count=last)
            store.commit_batch(records={session_id: _record(session_id, at)}, events=events,
                               metas={session_id: meta})
    finally:
        store.close()


def write_many_sessions(store_path: Path, count: int) -> None:
    store = EventStore.open(store_path)
    started = time.time() - 86400
    records, events, metas = {}, [], {}
    try:
        for index in range(count):
            at = started + index / 100
            session_id, ts = str(ULID.from_timestamp(at)), format_ts(at)
            records[session_id] = _record(session_id, at)
            events.append((event_key(session_id, 1), assemble_event(
                ts, session_id, 1, "session_started", encode_payload({"command": "scan"}))))
            events.append((event_key(session_id, 2), assemble_event(
                ts, session_id, 2, "session_ended", encode_payload({"status": "completed"}))))
            metas[session_id] = SessionMeta(next_seq=3, status="completed", last_ts=ts,
                                            event_count=2)
            if len(records) == 2_000 or index == count - 1:
                store.commit_batch(records=records, events=events, metas=metas)
                records, events, metas = {}, [], {}
    finally:
        store.close()


def _anon_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_ctree(args: list[str]) -> tuple[float, float, float]:
    """`(CPU s, first stdout line s, peak anonymous MiB)` of one `ctree args` process."""
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "contextree", *args],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=ENV)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _anon_kib(process.pid))
            done.wait(0.002)

    sampler = threading.Thread(target=sample)
    sampler.start()
    assert process.stdout is not None
    first = process.stdout.readline()
    first_at = time.perf_counter() - start
    for _ in iter(lambda: process.stdout.read(1 << 20), b""):  # type: ignore[union-attr]
        pass
    _, status, usage = os.wait4(process.pid, 0)
    done.set()
    sampler.join()
    assert first and os.waitstatus_to_exitcode(status) == 0, args
    return usage.ru_utime + usage.ru_stime, first_at, peak[0] / 1024


def _cpu_so_far_s(pid: int) -> float:
    """The CPU time a running process has had so far (`/proc/PID/schedstat`, in ns; the
    `ctree` process is single-threaded); NaN where the kernel does not keep it."""
    try:
        with open(f"/proc/{pid}/schedstat", encoding="ascii") as schedstat:
            return int(schedstat.read().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        return float("nan")


def first_line_s(args: list[str]) -> tuple[float, float]:
    """`(wall, CPU)` seconds from starting `ctree args` to its first stdout line; the process
    is then killed (what follows is measured by `run_ctree`)."""
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "contextree", *args],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=ENV)
    assert process.stdout is not None
    first = process.stdout.readline()
    elapsed = time.perf_counter() - start
    cpu = _cpu_so_far_s(process.pid)
    process.kill()
    process.communicate()
    assert first, args
    return elapsed, cpu


def first_lines(commands: dict[str, list[str]], rounds: int) -> dict[str, tuple[float, float]]:
    """The median `(wall, CPU)` first-line times of each command, the rounds interleaved."""
    for args in commands.values():
        first_line_s(args)  # fills the bytecode cache
    samples: dict[str, list[tuple[float, float]]] = {key: [] for key in commands}
    for _ in range(rounds):
        for key, args in commands.items():
            samples[key].append(first_line_s(args))
    return {key: (median([wall for wall, _ in values]), median([cpu for _, cpu in values]))
            for key, values in samples.items()}


def measure(args: list[str], rounds: int) -> tuple[float, float, float]:
    runs = [run_ctree(args) for _ in range(rounds)]
    return (median([r[0] for r in runs]), median([r[1] for r in runs]),
            max(r[2] for r in runs))


def main() -> int:
    args = parse_args(__doc__ or "")
    report = Report("bench_reads", args)
    events, sessions, rounds = (20_000, 500, 1) if args.quick else (1_000_000, 10_000, 3)
    with temp_dir(args.dir, "bench-reads-") as root:
        ENV.update(child_env(root))
        long_ws, many_ws, short_ws = root / "long", root / "many", root / "short"
        write_long_session(long_ws / ".ctree" / "store", events)
        write_long_session(short_ws / ".ctree" / "store", 10)
        write_many_sessions(many_ws / ".ctree" / "store", sessions)
        report.note(f"{events:,} events in one session; {sessions:,} ended sessions; "
                    f"median of {rounds} run(s) per command; memory: peak RssAnon")
        start_cpu, _, start_mib = measure(["--help"], rounds)
        startup = Baseline("ctree --help", start_cpu, "s")
        startup_memory = Baseline("ctree --help", start_mib, "MiB")
        firsts = first_lines({"help": ["--help"],
                              "short": ["-C", str(short_ws), "sessions", "events", "last"],
                              "long": ["-C", str(long_ws), "sessions", "events", "last"]},
                             2 if args.quick else 7)
        (help_wall, help_cpu), (short_wall, short_cpu), (long_wall, long_cpu) = (
            firsts["help"], firsts["short"], firsts["long"])
        report.row("reads.events_first_line_after_startup_ms", (long_wall - help_wall) * 1000,
                   "ms", baselines=[Baseline("10-event session, after start-up",
                                             (short_wall - help_wall) * 1000, "ms")],
                   target=Target("<=", 50), note="wall, minus `ctree --help`'s first line")
        report.row("reads.events_first_line_cpu_after_startup_ms", (long_cpu - help_cpu) * 1000,
                   "ms", baselines=[Baseline("10-event session, after start-up",
                                             (short_cpu - help_cpu) * 1000, "ms")],
                   note="the process's CPU time when its first line arrived, minus --help's")
        report.row("reads.events_first_line_s", long_wall, "s",
                   baselines=[Baseline("ctree --help first line", help_wall, "s")],
                   note="wall, process start included")
        cpu, _, mib = measure(["-C", str(long_ws), "sessions", "events", "last"], rounds)
        report.row("reads.events_cpu_s", cpu, "s", baselines=[startup])
        report.row("reads.events_peak_anon_mib", mib, "MiB", baselines=[startup_memory])
        cpu, _, mib = measure(["-C", str(long_ws), "sessions", "show", "last"], rounds)
        report.row("reads.show_cpu_s", cpu, "s", baselines=[startup])
        report.row("reads.show_peak_anon_mib", mib, "MiB", baselines=[startup_memory],
                   target=Target("<=", 150))
        cpu, _, _ = measure(["-C", str(many_ws), "sessions", "list", "--all"], rounds)
        report.row("reads.list_all_cpu_s", cpu, "s", baselines=[startup],
                   target=Target("<=", 1.0), note=f"{sessions:,} rows")
        cpu, _, _ = measure(["-C", str(many_ws), "sessions", "verify", "--all"], rounds)
        report.row("reads.verify_all_cpu_s", cpu, "s", baselines=[startup],
                   note=f"{sessions:,} sessions, each read and replayed")
        cpu, _, _ = measure(["-C", str(many_ws), "sessions", "list"], rounds)
        report.row("reads.list_default_cpu_s", cpu, "s", baselines=[startup],
                   note="the newest 50 and a count of the rest")
    return report.finish()


if __name__ == "__main__":
    raise SystemExit(main())
