"""Writers run in forked children, so a crash loop costs milliseconds per run, not a new
interpreter. A child reports on a pipe: `S<session id>` once started, `A<n>` after each flush
that made n events durable. The parent kills it at a random moment with SIGKILL.

`run_cli` runs a whole `ctree` command the same way (optionally killed at a given moment), so
the engine commands can be crash-tested and hostile stores read through the real CLI edge
without paying for a new interpreter per run."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import select
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from contextree.cli import app as cli_app  # imported here, so every forked child has it

if TYPE_CHECKING:
    from contextree.progress import Session


@dataclass
class ChildReport:
    session_id: str | None
    acknowledged: int
    exit_signal: int | None


def run_killed_child(body: Callable[[Callable[[str], None]], None], kill_after_s: float,
                     ) -> ChildReport:
    """Fork, run `body(report)` in the child, SIGKILL it after `kill_after_s`, collect."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_fd)
        code = 0
        try:
            body(lambda line: os.write(write_fd, (line + "\n").encode()))
        except BaseException:
            code = 1
        os._exit(code)
    os.close(write_fd)
    deadline = time.monotonic() + kill_after_s
    remaining = deadline - time.monotonic()
    if remaining > 0:
        time.sleep(remaining)  # the random kill moment itself, not a wait for a result
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    data = b""
    while chunk := os.read(read_fd, 65536):
        data += chunk
    os.close(read_fd)
    session_id, acknowledged = None, 0
    for line in data.decode().splitlines():
        if line.startswith("S"):
            session_id = line[1:]
        elif line.startswith("A"):
            acknowledged = int(line[1:])
    exit_signal = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
    return ChildReport(session_id, acknowledged, exit_signal)


@dataclass
class CliResult:
    """What one `ctree` run in a forked child did: exit code (None when it was killed), its
    output, the sessions it started, and how long it ran after its first session started."""

    code: int | None
    stdout: str
    stderr: str
    session_ids: list[str] = field(default_factory=list)
    after_session_s: float | None = None

    @property
    def killed(self) -> bool:
        return self.code is None

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("error:")]


def run_cli(args: list[str], *, env: dict[str, str | None] | None = None,
            kill_after_s: float | None = None,
            kill_after_session_s: float | None = None) -> CliResult:
    """Run `ctree args` through `contextree.cli.app.run` in a forked child, as a real process
    would: its own stdout and stderr (files, so a big output cannot block), logging set up by
    the command itself, `env` applied on top of ours.

    The child reports each session it starts on a pipe. `kill_after_s` SIGKILLs it that long
    after the fork; `kill_after_session_s` that long after its first session started (so a
    kill can be aimed inside the command's work). The parent must not hold any store open:
    LMDB handles must not cross a fork.
    """
    from contextree.progress import store as store_module

    assert not store_module._open_stores, "close every store before forking a ctree child"
    read_fd, write_fd = os.pipe()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:  # child
            os.close(read_fd)
            _child_run_cli(args, env, out.fileno(), err.fileno(), write_fd)
        os.close(write_fd)
        pidfd = os.pidfd_open(pid)
        try:
            lines, session_at = _watch_child(pidfd, read_fd, started, kill_after_s,
                                             kill_after_session_s)
            if kill_after_s is not None or kill_after_session_s is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
            ended = time.monotonic()
            lines += _read_all(read_fd)
        finally:
            os.close(pidfd)
            os.close(read_fd)
        code = None if os.WIFSIGNALED(status) else os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return CliResult(code, out.read().decode("utf-8", "replace"),
                         err.read().decode("utf-8", "replace"),
                         session_ids=[line for line in b"".join(lines).decode().split()],
                         after_session_s=ended - session_at if session_at else None)


def _watch_child(pidfd: int, read_fd: int, started: float, kill_after_s: float | None,
                 kill_after_session_s: float | None) -> tuple[list[bytes], float | None]:
    """Wait for the child's exit, its session reports and the kill moment, whichever the
    caller asked for; return the report bytes read so far and when the first session began."""
    lines: list[bytes] = []
    session_at: float | None = None
    while True:
        deadline = None
        if kill_after_s is not None:
            deadline = started + kill_after_s
        if kill_after_session_s is not None and session_at is not None:
            deadline = session_at + kill_after_session_s
        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        ready, _, _ = select.select([pidfd, read_fd], [], [], timeout)
        if not ready or pidfd in ready:
            return lines, session_at  # the kill moment came, or the child exited
        chunk = os.read(read_fd, 4096)
        if not chunk:
            os.waitid(os.P_PIDFD, pidfd, os.WEXITED | os.WNOWAIT)  # reports closed: await exit
            return lines, session_at
        lines.append(chunk)
        if session_at is None:
            session_at = time.monotonic()


def _read_all(read_fd: int) -> list[bytes]:
    chunks = []
    while chunk := os.read(read_fd, 4096):
        chunks.append(chunk)
    return chunks


def _child_run_cli(args: list[str], env: dict[str, str | None] | None, out_fd: int,
                   err_fd: int, report_fd: int) -> None:
    code = 70
    try:
        os.dup2(out_fd, 1)
        os.dup2(err_fd, 2)
        sys.stdout = io.TextIOWrapper(io.BufferedWriter(io.FileIO(1, "w", closefd=False)),
                                      encoding="utf-8")
        sys.stderr = io.TextIOWrapper(io.BufferedWriter(io.FileIO(2, "w", closefd=False)),
                                      encoding="utf-8", line_buffering=True)
        logging.root.handlers.clear()  # as in a fresh process: the command configures logging
        for name, value in (env or {}).items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        _report_sessions(report_fd)
        code = cli_app.run(args)
    except BaseException:
        traceback.print_exc()
    finally:
        with contextlib.suppress(BaseException):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _report_sessions(report_fd: int) -> None:
    """In the child only: write each started session's id to `report_fd`."""
    from contextree.progress.runtime import ProgressRuntime

    start_session = ProgressRuntime.session

    def session(self: ProgressRuntime, *args: Any, **kwargs: Any) -> Session:
        started = start_session(self, *args, **kwargs)
        os.write(report_fd, started.session_id.encode() + b"\n")
        return started

    ProgressRuntime.session = session  # type: ignore[method-assign]
