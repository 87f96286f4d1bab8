"""A real terminal for a TUI process: a pseudo-terminal of a given size, its output read as
text (control sequences removed) until something is on screen, and drained until exit.

Used by the reliability tests (a fresh `ctree tui` beside a stopped writer) and by
`bench/bench_tui.py` (time to the first paint).
"""

from __future__ import annotations

import os
import re
import select
import struct
import subprocess
import time
from collections.abc import Callable, Mapping

ESCAPE_SEQUENCE = re.compile(
    rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[@-Z\\-_]")
"""Terminal control sequences (CSI, OSC, charset, two-byte): what is left is the text."""


def open_pty(columns: int, rows: int) -> tuple[int, int]:
    """A pseudo-terminal `(controller, terminal)` of `columns` × `rows`. Raises ImportError
    or OSError where there is none (no termios, no /dev/ptmx)."""
    import fcntl
    import termios

    controller, terminal = os.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    return controller, terminal


def terminal_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """`base` (the environment) as a colour terminal of the pty's own size would see it."""
    env = {**(os.environ if base is None else base), "TERM": "xterm-256color"}
    for name in ("COLUMNS", "LINES", "NO_COLOR", "TEXTUAL"):
        env.pop(name, None)
    return env


def start_in_pty(argv: list[str], terminal: int, env: Mapping[str, str],
                 cwd: str | None = None) -> subprocess.Popen[bytes]:
    """Start `argv` on the pty's terminal side (which the caller then closes)."""
    return subprocess.Popen(argv, stdin=terminal, stdout=terminal, stderr=terminal, env=env,
                            cwd=cwd, start_new_session=True)


def read_screen_until(controller: int, process: subprocess.Popen[bytes],
                      shown: Callable[[str], bool], timeout_s: float) -> str:
    """Read the terminal's output until `shown(text)` holds, the process ends or `timeout_s`
    runs out; return the text read (control sequences removed)."""
    received = b""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and process.poll() is None:
        ready, _, _ = select.select([controller], [], [], deadline - time.monotonic())
        if not ready:
            break
        try:
            received += os.read(controller, 65536)
        except OSError:  # EIO: the terminal side closed
            break
        text = ESCAPE_SEQUENCE.sub(b"", received).decode("utf-8", "replace")
        if shown(text):
            return text
    return ESCAPE_SEQUENCE.sub(b"", received).decode("utf-8", "replace")


def drain_until_exit(controller: int, process: subprocess.Popen[bytes],
                     timeout_s: float) -> int:
    """Keep reading the terminal (the TUI restores the screen as it leaves, and a full
    terminal would block it) until the process exits; return its code."""
    deadline = time.monotonic() + timeout_s
    while process.poll() is None and time.monotonic() < deadline:
        ready, _, _ = select.select([controller], [], [], 1.0)
        if ready:
            try:
                os.read(controller, 65536)
            except OSError:
                break
    return process.wait(timeout_s)
