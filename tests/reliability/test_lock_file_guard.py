"""A store whose `lock.mdb` is deleted (or replaced) under a running writer refuses new openers.

Before the guard, the next opener created a fresh `lock.mdb`, believed it was alone, and two
writers broke the store (`MDB_BAD_DBI`, then an LMDB assertion aborting every reader). Here a
real writer process keeps a session open and emits on request; the lock file is deleted or
replaced; a second writer, a reader and the CLI each get one line naming the store; the first
writer goes on and ends its session; once it has exited, the store opens and reads whole.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from contextree.errors import StoreError
from contextree.progress import EventStore, ProgressRuntime
from contextree.progress.store_lock import LOCK_FILE

WRITER = """
import sys
from contextree.progress import ProgressRuntime
runtime = ProgressRuntime.open(sys.argv[1])
session = runtime.session("guard.writer")
print("READY", flush=True)
sent = 0
for line in sys.stdin:
    if line.strip() == "end":
        break
    for _ in range(int(line)):
        session.emit("queue_stats", {"n": sent})
        sent += 1
    runtime.flush()
    print("OK", flush=True)
session.end()
runtime.close()
print("ENDED", flush=True)
"""


class Writer:
    """A writer process with one open session, emitting when asked."""

    def __init__(self, store: Path) -> None:
        self.process = subprocess.Popen([sys.executable, "-c", WRITER, str(store)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.read() == "READY"

    def read(self) -> str:
        assert self.process.stdout is not None
        return self.process.stdout.readline().strip()

    def send(self, line: str) -> str:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        return self.read()


@pytest.fixture
def writer(tmp_path: Path) -> Iterator[Writer]:
    started = Writer(tmp_path / "store")
    yield started
    if started.process.poll() is None:
        started.process.kill()
    started.process.wait(60)


def ctree(store: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "contextree", "--store", str(store), *args],
                          capture_output=True, text=True, timeout=120, check=False)


def assert_refused_in_one_line(result: subprocess.CompletedProcess[str], store: Path,
                               state: str) -> None:
    assert result.returncode == 1, (result.returncode, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert str(store) in lines[0] and f"lock.mdb {state}" in lines[0]
    assert "MDB_BAD_DBI" not in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("replace", [False, True], ids=["deleted", "replaced"])
def test_a_second_environment_over_a_new_lock_file_is_refused(
    writer: Writer, tmp_path: Path, replace: bool,
) -> None:
    store = tmp_path / "store"
    assert writer.send("100") == "OK"
    (store / LOCK_FILE).unlink()
    if replace:  # another tool opened the store meanwhile and made a new one
        (store / LOCK_FILE).write_bytes(b"\0" * 8192)
    state = "was replaced" if replace else "was deleted"

    with pytest.raises(StoreError, match=f"lock.mdb {state}") as refused:
        ProgressRuntime.open(store)
    assert str(store) in str(refused.value)
    with pytest.raises(StoreError, match=f"lock.mdb {state}"):
        EventStore.open_readonly(store)
    for command in (["sessions", "list"], ["sessions", "events", "last"]):
        result = ctree(store, *command)
        assert result.returncode != -signal.SIGABRT
        assert_refused_in_one_line(result, store, state)

    assert writer.send("100") == "OK"  # the first writer was not disturbed
    assert writer.send("end") == "ENDED"
    assert writer.process.wait(60) == 0
    reopened = EventStore.open_readonly(store)
    try:
        (record,) = reopened.list_sessions()
        numbers = [e.data["n"] for e in reopened.read_events(record.session_id)
                   if e.type == "queue_stats"]
    finally:
        reopened.close()
    assert record.status == "completed"
    assert numbers == list(range(200))


def test_processes_sharing_the_lock_file_open_together(writer: Writer, tmp_path: Path) -> None:
    store = tmp_path / "store"
    second = Writer(store)
    try:
        assert writer.send("10") == "OK"
        assert second.send("10") == "OK"
        assert ctree(store, "sessions", "list").returncode == 0
        assert second.send("end") == "ENDED"
    finally:
        second.process.wait(60)
    assert writer.send("end") == "ENDED"


def test_a_lock_file_deleted_while_no_one_has_the_store_open_is_remade(tmp_path: Path) -> None:
    store = tmp_path / "store"
    with ProgressRuntime.open(store) as runtime, runtime.session("guard.first"):
        pass
    os.unlink(store / LOCK_FILE)
    with ProgressRuntime.open(store) as runtime, runtime.session("guard.second"):
        pass
    reopened = EventStore.open_readonly(store)
    try:
        assert {r.command for r in reopened.list_sessions()} == {"guard.first", "guard.second"}
    finally:
        reopened.close()
