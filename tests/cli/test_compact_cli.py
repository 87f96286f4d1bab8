"""`ctree sessions compact` on a real store after a prune, and what `status` says about it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.support.processes import ROOT
from tests.support.synthetic_sessions import write_ended_sessions

from contextree.cli.app import run
from contextree.progress import EventStore


def ctree(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def workspace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    assert ctree(capsys, "-C", str(root), "init")[0] == 0
    return root


HOLDER = """
import sys
from contextree.progress import EventStore
store = EventStore.open_readonly(sys.argv[1])
print(len(store.list_sessions()), flush=True)
sys.stdin.read()
store.close()
"""


def test_compact_after_prune_gives_disk_back(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store_path = workspace / ".ctree" / "store"
    ids = write_ended_sessions(store_path, 400, events_each=60)
    code, out, _ = ctree(capsys, "-C", str(workspace), "sessions", "prune", "--max-count",
                         "20", "--json")
    assert code == 0 and len(json.loads(out)["removed"]) >= 380
    code, out, _ = ctree(capsys, "-C", str(workspace), "status")
    assert code == 0 and "run `ctree sessions compact`" in out
    code, out, _ = ctree(capsys, "-C", str(workspace), "status", "--json")
    status = json.loads(out)
    assert status["store_free_bytes"] * 2 > status["store_size_bytes"]

    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(store_path)], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip()
        size_before = (store_path / "data.mdb").stat().st_size
        code, _, err = ctree(capsys, "-C", str(workspace), "sessions", "compact")
        assert code != 0 and "open in another process" in err and len(err.splitlines()) == 1
        assert (store_path / "data.mdb").stat().st_size == size_before
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait()

    code, out, _ = ctree(capsys, "-C", str(workspace), "sessions", "compact", "--json")
    result = json.loads(out)
    assert code == 0 and result["freed_bytes"] > result["after_bytes"]
    assert (store_path / "data.mdb").stat().st_size == result["after_bytes"]
    store = EventStore.open_readonly(store_path)
    try:
        kept = [r.session_id for r in store.list_sessions() if r.command == "scan"]
        assert len(kept) >= 18 and kept == list(reversed(ids))[:len(kept)]
        assert len(store.read_events(kept[0])) == 60
    finally:
        store.close()
    code, out, _ = ctree(capsys, "-C", str(workspace), "status")
    assert code == 0 and "sessions compact" not in out
