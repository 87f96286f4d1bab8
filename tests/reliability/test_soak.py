"""Soak: `ctree watch --generate` under continuous edits, SIGKILLed and restarted.

Each life of the watcher is a real `ctree` process. The test edits files as fast as the
watcher takes them (it waits for each `batch_processed` before the next edit, so no sleep),
kills the watcher with SIGKILL after a random number of batches, checks the store, and starts
it again; the last life is stopped with SIGTERM. Measured: the watcher's own resident memory
(anonymous pages: the mapped store is measured by its size) from its fifth batch to its last
(growth at most 10 %), the store file against the bytes it holds
(at most 2× plus 1 MiB), and the checkers after every kill (0 violations). CI soaks for 30 s;
`--long` for 10 minutes.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from contextree.progress import EventStore
from contextree.progress.follow import Follower
from tests.reliability.checker import check_engine, check_store, sub_database_names
from tests.reliability.figures import report_figures
from tests.reliability.forked import run_cli
from tests.reliability.workspaces import make_tree
from tests.support.processes import ROOT, read_line

WARM_BATCHES = 5
BATCH_TIMEOUT_S = 30.0


def _start_watcher(workspace: Path, stderr_path: Path) -> tuple[subprocess.Popen[str], str]:
    with open(stderr_path, "a", encoding="utf-8") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "contextree", "-C", str(workspace), "watch", "--generate",
             "--debounce-ms", "50"],
            stdout=subprocess.PIPE, stderr=stderr, text=True, cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
    line = read_line(process, "watching ")
    found = re.search(r"session (\w+)", line)
    assert found, line
    return process, found.group(1)


def _edit(workspace: Path, rng: random.Random, files: list[Path], added: list[Path]) -> int:
    """A few edits that keep the tree about the same size: content changes (always at least
    one, so the batch is never empty), and a file created now and then, deleted later."""
    count = rng.randint(1, 4)
    created: list[Path] = []
    for number in range(count):
        roll = rng.random() if number else 1.0
        if roll < 0.1:
            path = workspace / "scratch" / f"tmp_{rng.randrange(10**9)}.py"
            path.parent.mkdir(exist_ok=True)
            path.write_text(f"X = {rng.random()}\n", encoding="utf-8")
            created.append(path)
        elif roll < 0.2 and added:
            added.pop(rng.randrange(len(added))).unlink()
        else:
            path = rng.choice(files)
            path.write_text(f'"""Edited {rng.random()}."""\n\n\ndef f() -> int:\n'
                            f"    return {rng.randrange(10**6)}\n", encoding="utf-8")
    added.extend(created)  # deleted by a later edit, never in the batch that created it
    return count


def _await_batch(follower: Follower, totals: Counter[str]) -> None:
    """Wait (on the store, not a clock) until the watcher commits its next batch."""
    deadline = time.monotonic() + BATCH_TIMEOUT_S
    while time.monotonic() < deadline:
        events = follower.wait(deadline - time.monotonic())
        for event in events:
            totals[event.type] += 1
        if any(event.type == "batch_processed" for event in events):
            return
    raise AssertionError("the watcher processed no batch within 30 s")


def _anonymous_memory(pid: int) -> int:
    """The process's own resident memory (`RssAnon`): heap and stacks. Its total RSS also
    counts the store's pages it has mapped (LMDB reads through mmap), which grow with the
    store by design and are bounded by the store-size check instead."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no RssAnon in /proc/PID/status")


def _payload_bytes(store_path: Path) -> int:
    store = EventStore.open(store_path, create=False)
    try:
        names = sorted(sub_database_names(store))
        handles = [store.open_db(name) for name in names]
        with store.read() as txn:
            return sum(len(key) + len(value) for handle in handles
                       for key, value in txn.cursor(db=handle))
    finally:
        store.close()


def test_watch_generate_soak_with_kills(tmp_path: Path, long_mode: bool) -> None:
    duration_s = 600.0 if long_mode else 30.0
    rng = random.Random(20261127)
    workspace = tmp_path / "ws"
    files = make_tree(workspace, 150)
    stderr_path = tmp_path / "watch.stderr"
    assert run_cli(["-C", str(workspace), "context", "generate"]).code == 0
    store_path = workspace / ".ctree" / "store"
    totals: Counter[str] = Counter()
    growths: list[float] = []
    added: list[Path] = []
    started = time.monotonic()
    last_life = False
    while not last_life:
        last_life = time.monotonic() - started > duration_s
        process, session_id = _start_watcher(workspace, stderr_path)
        store = EventStore.open(store_path, create=False)
        try:
            follower = Follower(store, session_id)
            batches_this_life = WARM_BATCHES + rng.randint(5, 60)
            baseline = 0
            for batch in range(batches_this_life):
                totals["files_edited"] += _edit(workspace, rng, files, added)
                _await_batch(follower, totals)
                if batch + 1 == WARM_BATCHES:
                    baseline = _anonymous_memory(process.pid)
            final = _anonymous_memory(process.pid)
        except BaseException:
            process.kill()
            process.wait()
            raise
        finally:
            store.close()
        growths.append((final - baseline) / baseline)
        totals["batches"] += batches_this_life
        if last_life:
            process.send_signal(signal.SIGTERM)
            assert process.wait(60) == 0
        else:
            process.kill()
            process.wait()
            totals["kills"] += 1
        check = check_store(store_path, only={session_id})
        assert check.violations == []
        assert check.by_status == {"completed" if last_life else "interrupted": 1}
        engine = check_engine(store_path)
        assert engine.violations == [], engine.violations[:5]
        totals["lives"] += 1
    assert "Traceback" not in stderr_path.read_text(encoding="utf-8")
    final_check = check_store(store_path)
    assert final_check.violations == []
    fresh = run_cli(["-C", str(workspace), "scan", "--force", "--json"])
    assert fresh.code == 0 and check_engine(store_path).root_id in fresh.stdout
    size = (store_path / "data.mdb").stat().st_size
    payload = _payload_bytes(store_path)
    assert size <= 2 * payload + (1 << 20), f"store file {size} bytes for {payload} bytes held"
    worst = max(growths)
    assert worst <= 0.10, f"watcher memory grew {worst:.1%} in one life: {growths}"
    report_figures(
        "soak (watch --generate, kill -9 and restart)", seconds=round(time.monotonic() - started),
        lives=totals["lives"], kills=totals["kills"], batches=totals["batches"],
        files_edited=totals["files_edited"], frames=totals["node_generation_completed"],
        anon_rss_growth_max=f"{worst:.1%}",
        anon_rss_growths="/".join(f"{g:.1%}" for g in growths),
        store_bytes=size, payload_bytes=payload,
        store_ratio=round(size / payload, 2), events=final_check.events, violations=0,
    )
