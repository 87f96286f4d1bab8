"""Writers run in forked children, so a crash loop costs milliseconds per run, not a new
interpreter. A child reports on a pipe: `S<session id>` once started, `A<n>` after each flush
that made n events durable. The parent kills it at a random moment with SIGKILL."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass


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
