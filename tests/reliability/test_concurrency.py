"""Several writer processes and followers at once, on a store that starts with a 1 MiB map."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from contextree.progress import ProgressRuntime
from tests.reliability.checker import check_store
from tests.reliability.figures import report_figures
from tests.support.processes import ROOT, read_line, start_writer


def test_writers_followers_and_a_killed_writer(store_path: Path, long_mode: bool) -> None:
    count = 40_000 if long_mode else 6_000
    ProgressRuntime.open(store_path, map_size=1 << 20).close()
    common = ("--flush-every", "200", "--map-size", str(1 << 20), "--payload-bytes", "200")
    # The first writer never finishes by itself: it is killed halfway through the others.
    writers = [start_writer(store_path, *common)] + [
        start_writer(store_path, "--count", str(count), *common) for _ in range(3)]
    ids = [read_line(writer, "SESSION ") for writer in writers]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    followers = [subprocess.Popen([sys.executable, "-m", "tests.support.follower",
                                   str(store_path), *ids], stdout=subprocess.PIPE, text=True,
                                  env=env, cwd=ROOT) for _ in range(2)]
    victim = writers[0]
    acknowledged = 0
    while acknowledged < count // 2:
        acknowledged = int(read_line(victim, "ACK "))
    victim.kill()
    victim.wait()
    for writer in writers[1:]:
        assert writer.wait(120) == 0
    reports = []
    for follower in followers:
        out, _ = follower.communicate(timeout=120)
        reports.append({line.split()[1]: (int(line.split()[2]), line.split()[3])
                        for line in out.splitlines() if line.startswith("SEEN ")})
    check = check_store(store_path)
    assert check.violations == []
    with ProgressRuntime.open(store_path) as runtime:
        stored = {sid: len(runtime.store.read_events(sid)) for sid in ids}
        statuses = {r.session_id: r.status for r in runtime.store.list_sessions()}
        map_size = runtime.store.env.info()["map_size"]
    assert statuses[ids[0]] == "interrupted"
    assert all(statuses[sid] == "completed" for sid in ids[1:])
    assert stored[ids[0]] >= acknowledged + 1
    assert all(stored[sid] == count + 2 for sid in ids[1:])
    for report in reports:
        assert report == {sid: (stored[sid], "True") for sid in ids}
    file_size = (store_path / "data.mdb").stat().st_size
    # Reopening above maps 256 MiB; the file itself proves the writers' 1 MiB map grew.
    assert map_size > 1 << 20 and file_size > 1 << 20, "the map grew beyond its first 1 MiB"
    report_figures("concurrent writers and followers", writers=len(writers),
                   followers=len(followers), events_stored=sum(stored.values()),
                   killed_writer_acknowledged=acknowledged,
                   killed_writer_stored=stored[ids[0]], lost=0,
                   store_mib=round(file_size / (1 << 20), 1), violations=0)
