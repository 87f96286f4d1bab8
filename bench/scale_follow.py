"""Follow latency with several writer processes, on one store or on one store each.

Each writer is a subprocess with its own `ProgressRuntime` and one session; once every writer
and the reader are ready they all emit at the same steady rate, each payload carrying
`t_emit = time.time()`. This process follows every writer's session (one `Follower` each,
polled in turn by one loop that sleeps the default poll interval when none had anything) and
records `time.time() - t_emit` per event. Each writer also reports its group commits: how many,
their sizes, and the time its ingestor waited for LMDB's write lock and spent committing.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import NODE_ID, emit_paced, median, percentile
from contextree.progress import ProgressRuntime
from contextree.progress.follow import DEFAULT_POLL_INTERVAL_S, Follower
from contextree.progress.store import EventStore

FSYNCS_PER_COMMIT = 2
"""Disk flushes per commit (checked with strace): the data pages' `fdatasync`, then the meta
page (an `O_DSYNC` write under the write lock before issue 14; `env.sync` after it now)."""


@dataclass
class FollowResult:
    """What one configuration (writers, shared or separate stores) measured."""

    latencies_ms: list[float] = field(default_factory=list)
    per_writer_p95_ms: list[float] = field(default_factory=list)
    lost: int = 0
    commits: int = 0
    events: int = 0
    lock_wait_ms: list[float] = field(default_factory=list)
    commit_ms: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def merge(self, other: FollowResult) -> None:
        """Pool `other` (another round of the same configuration) into this result."""
        self.latencies_ms += other.latencies_ms
        self.per_writer_p95_ms += other.per_writer_p95_ms
        self.lost += other.lost
        self.commits += other.commits
        self.events += other.events
        self.lock_wait_ms += other.lock_wait_ms
        self.commit_ms += other.commit_ms
        self.seconds += other.seconds

    @property
    def p50(self) -> float:
        return median(self.latencies_ms)

    @property
    def p95(self) -> float:
        return percentile(self.latencies_ms, 95)


# -- the writer subprocess --------------------------------------------------------------------


class _TimedEnvironment:
    """Wraps an LMDB environment to time `begin(write=True)` (the wait for the write lock)
    and the transaction that follows it up to its commit (writes and fsyncs)."""

    def __init__(self, env: Any, lock_wait_ms: list[float], commit_ms: list[float]) -> None:
        self._env = env
        self._lock_wait_ms = lock_wait_ms
        self._commit_ms = commit_ms

    def begin(self, *args: Any, **kwargs: Any) -> Any:
        if not kwargs.get("write"):
            return self._env.begin(*args, **kwargs)
        start = time.perf_counter()
        txn = self._env.begin(*args, **kwargs)
        locked = time.perf_counter()
        self._lock_wait_ms.append((locked - start) * 1000)
        return _TimedTransaction(txn, locked, self._commit_ms)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._env, name)


class _TimedTransaction:
    def __init__(self, txn: Any, locked: float, commit_ms: list[float]) -> None:
        self._txn = txn
        self._locked = locked
        self._commit_ms = commit_ms

    def __enter__(self) -> Any:
        self._txn.__enter__()
        return self._txn

    def __exit__(self, *exc: Any) -> Any:
        result = self._txn.__exit__(*exc)
        self._commit_ms.append((time.perf_counter() - self._locked) * 1000)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._txn, name)


def writer(store: str, rate: int, seconds: float) -> int:
    runtime = ProgressRuntime.open(store)
    lock_wait_ms: list[float] = []
    commit_ms: list[float] = []
    session = runtime.session("bench.scale.follow")
    runtime.store.env = _TimedEnvironment(runtime.store.env, lock_wait_ms, commit_ms)
    print(f"SESSION {session.session_id}", flush=True)
    if sys.stdin.readline().strip() != "GO":
        return 2
    emit, wall = session.emit, time.time
    done = emit_paced(lambda i: emit("node_generation_started", {
        "i": i, "path": f"src/pkg/module_{i}.py", "node_id": NODE_ID, "t_emit": wall(),
    }), rate, seconds)
    session.end()
    stats = {"sent": done, "commits": runtime.ingestor.commit_count,
             "events": runtime.ingestor.committed_events,
             "lock_wait_ms": lock_wait_ms, "commit_ms": commit_ms}
    runtime.close()
    print("STATS " + json.dumps(stats), flush=True)
    return 0


# -- the reader (this process) ----------------------------------------------------------------


def run_config(script: str, root: Path, writers: int, shared: bool, rate: int,
               seconds: float) -> FollowResult:
    """Start `writers` writer processes (on one store when `shared`), follow them all."""
    stores = [root / "store"] if shared else [root / f"store{i}" for i in range(writers)]
    for path in stores:
        EventStore.open(path).close()
    procs = []
    for index in range(writers):
        store_path = stores[0] if shared else stores[index]
        procs.append(subprocess.Popen(
            [sys.executable, script, "--role", "follow-writer", "--store", str(store_path),
             "--rate", str(rate), "--seconds", str(seconds)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))
    followers = []
    opened = []
    for index, proc in enumerate(procs):
        assert proc.stdout is not None
        line = proc.stdout.readline().split()
        assert line and line[0] == "SESSION", line
        store = EventStore.open_readonly(stores[0] if shared else stores[index])
        opened.append(store)
        followers.append(Follower(store, line[1], after_seq=1))
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("GO\n")
        proc.stdin.flush()
    per_writer: list[list[float]] = [[] for _ in procs]
    started = time.monotonic()
    deadline = started + seconds + 60
    while not all(f.finished for f in followers) and time.monotonic() < deadline:
        got = False
        for index, follower in enumerate(followers):
            events = follower.poll()
            arrived = time.time()
            for event in events:
                t_emit = event.data.get("t_emit")
                if t_emit is not None:
                    per_writer[index].append((arrived - t_emit) * 1000)
            got = got or bool(events)
        if not got:
            time.sleep(DEFAULT_POLL_INTERVAL_S)
    result = FollowResult(seconds=time.monotonic() - started)
    for index, proc in enumerate(procs):
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0, (proc.returncode, out)
        stats = json.loads(next(x for x in out.splitlines() if x.startswith("STATS "))[6:])
        result.lost += stats["sent"] - len(per_writer[index])
        result.commits += stats["commits"]
        result.events += stats["events"]
        result.lock_wait_ms.extend(stats["lock_wait_ms"])
        result.commit_ms.extend(stats["commit_ms"])
        result.latencies_ms.extend(per_writer[index])
        result.per_writer_p95_ms.append(percentile(per_writer[index], 95))
    for store in opened:
        store.close()
    return result


def describe(result: FollowResult) -> str:
    """One line of the commit profile behind a result (rates over the followed time)."""
    seconds = result.seconds
    commits_per_s = result.commits / seconds if seconds else float("nan")
    size = result.events / result.commits if result.commits else float("nan")
    return (f"{commits_per_s:,.0f} commits/s, {size:.1f} events/commit; write lock wait p50 "
            f"{median(result.lock_wait_ms):.2f} ms p95 {percentile(result.lock_wait_ms, 95):.2f}"
            f" ms; commit (writes+fsync) p50 {median(result.commit_ms):.2f} ms p95 "
            f"{percentile(result.commit_ms, 95):.2f} ms; disk flushes "
            f"{FSYNCS_PER_COMMIT * commits_per_s:,.0f}/s; "
            "per-writer p95 "
            + "/".join(f"{v:.0f}" for v in result.per_writer_p95_ms) + " ms; lost "
            f"{result.lost}")
