"""Faults: injected commit failures, a real file-size limit (disk full), a read-only store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from contextree.errors import IngestError
from contextree.progress import ProgressRuntime
from tests.reliability.checker import check_store
from tests.reliability.figures import report_figures
from tests.support.faults import failing_commits
from tests.support.processes import ROOT


class FailAt:
    """A commit hook that raises at the Nth commit (and every later one if persistent)."""

    def __init__(self, nth: int, *, persistent: bool) -> None:
        self.nth, self.persistent, self.calls = nth, persistent, 0

    def __call__(self) -> None:
        self.calls += 1
        if self.calls == self.nth or (self.persistent and self.calls > self.nth):
            raise OSError(5, "Input/output error")


def test_a_single_failed_commit_is_retried_and_loses_nothing(runtime: ProgressRuntime) -> None:
    session = runtime.session("fault.once")
    with failing_commits(runtime.store, FailAt(1, persistent=False)):
        for index in range(100):
            session.emit("queue_stats", {"n": index})
        runtime.flush()
        session.end()
    events = runtime.store.read_events(session.session_id)
    assert [e.data.get("n") for e in events[1:-1]] == list(range(100))
    assert events[-1].type == "session_ended" and events[-1].data["status"] == "completed"
    report_figures("fault: one failed commit", injected_failures=1, events=100, lost=0)


def test_persistent_commit_failure_fails_the_session_and_harms_nothing_committed(
    runtime: ProgressRuntime,
) -> None:
    with runtime.session("fault.before") as before:
        before.emit("queue_stats", {"n": 1})
    session = runtime.session("fault.persistent")
    hook = FailAt(1, persistent=True)
    with failing_commits(runtime.store, hook):
        session.emit("queue_stats", {"n": 1})
        with pytest.raises(IngestError, match="Input/output error"):
            runtime.flush()
        session.emit("queue_stats", {"n": 2})  # dropped and counted, never raises in emit
        with pytest.raises(IngestError):
            session.end()
    assert hook.calls >= 3  # first try, the retry, the best-effort failure record
    report = check_store(runtime.store.path)
    assert report.violations == []
    assert [e.type for e in runtime.store.read_events(before.session_id)] == [
        "session_started", "queue_stats", "session_ended"]
    # Nothing could be written for the failing session; it keeps what was committed before.
    assert [e.type for e in runtime.store.read_events(session.session_id)] == ["session_started"]
    report_figures("fault: persistent commit failure", commit_attempts=hook.calls,
                   earlier_sessions_intact=1, violations=0)


WRITE_UNDER_LIMIT = """
import resource, signal, sys
from contextree.progress import ProgressRuntime
from contextree.errors import IngestError
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
limit = int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
runtime = ProgressRuntime.open(sys.argv[1])
session = runtime.session("fault.disk_full")
print("SESSION", session.session_id, flush=True)
try:
    for index in range(200_000):
        session.emit("queue_stats", {"n": index, "pad": "x" * 500})
        if index % 1000 == 999:
            runtime.flush()
    session.end()
except IngestError as exc:
    print("ERROR", str(exc).splitlines()[0], flush=True)
    sys.exit(1)
"""


def test_a_real_disk_full_fails_the_session_cleanly(store_path: Path) -> None:
    with ProgressRuntime.open(store_path) as runtime, runtime.session("fault.earlier") as s:
        s.emit("queue_stats", {"n": 1})
    limit = (store_path / "data.mdb").stat().st_size + (4 << 20)
    result = subprocess.run(
        [sys.executable, "-c", WRITE_UNDER_LIMIT, str(store_path), str(limit)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 1, result.stderr
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    assert "could not write events" in lines["ERROR"] and "free disk space" in lines["ERROR"]
    assert "Traceback" not in result.stderr
    report = check_store(store_path)
    assert report.violations == []
    with ProgressRuntime.open(store_path) as runtime:
        statuses = {r.command: r.status for r in runtime.store.list_sessions()}
        failed = runtime.store.get_session(lines["SESSION"])
    assert statuses["fault.earlier"] == "completed"
    assert statuses["fault.disk_full"] in ("failed", "interrupted")
    assert failed is not None
    report_figures("fault: disk full (RLIMIT_FSIZE)", limit_bytes=limit, exit_code=1,
                   disk_full_session=statuses["fault.disk_full"], violations=0)


def _run_as_nobody(args: list[str]) -> tuple[int, str]:
    """Run `ctree args` in a forked child that dropped to an unprivileged user."""
    from contextree.cli.app import run

    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.dup2(write_fd, 2)
        sys.stderr = os.fdopen(2, "w", buffering=1)
        os.setgid(65534)
        os.setuid(65534)
        os._exit(run(args))
    os.close(write_fd)
    chunks = []
    while chunk := os.read(read_fd, 4096):
        chunks.append(chunk)
    os.close(read_fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), b"".join(chunks).decode()


@pytest.mark.skipif(os.geteuid() != 0, reason="switching to an unprivileged user needs root")
def test_a_read_only_store_gives_a_one_line_error() -> None:
    import shutil
    import tempfile

    tmp_path = Path(tempfile.mkdtemp(prefix="ctree-ro-"))
    try:
        _check_read_only_store(tmp_path)
    finally:
        shutil.rmtree(tmp_path, ignore_errors=True)


def _check_read_only_store(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    subprocess.run([sys.executable, "-m", "contextree", "-C", str(workspace), "init"],
                   check=True, capture_output=True, cwd=ROOT)
    before = (workspace / ".ctree" / "store" / "data.mdb").read_bytes()
    for path in [tmp_path, workspace, *workspace.rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    os.chmod(workspace / ".ctree" / "store", 0o555)
    code, stderr = _run_as_nobody(["-C", str(workspace), "sessions", "prune"])
    assert code == 1, stderr
    assert stderr.startswith("error: ") and len(stderr.splitlines()) == 1
    assert "permission" in stderr.lower()
    assert (workspace / ".ctree" / "store" / "data.mdb").read_bytes() == before
    report_figures("fault: read-only store", exit_code=code, error_lines=1, bytes_changed=0)
