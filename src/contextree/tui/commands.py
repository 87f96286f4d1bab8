"""Commands typed into the TUI: checked against the command tree, run as `ctree` child processes.

`CommandRunner.start(line)` splits the line like a shell and parses it with the rebuilt click
tree (`command_tree`) — an invalid line raises `UsageError` and nothing runs — then starts
`python -m contextree -C <workspace> --store <store> …` with the TUI's own interpreter. The
child writes its session to the store like any other process; the TUI learns which session is
its own by the owner pid in the session record (`adopt_sessions`). What it prints goes to two
anonymous temporary files (not pipes: a child left running after the TUI quits must not die
writing to a closed pipe), read when it ends. `cancel` sends SIGINT — Ctrl-C — so the command
ends through the CLI's own edge (`cancelled`; `watch` stops normally). No Textual here: the UI
passes a callback, called from a waiter thread, which posts a message.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO

import click

from contextree.engine.workspace.layout import Workspace
from contextree.errors import UsageError
from contextree.progress import SessionRecord
from contextree.tui.command_tree import ParsedCommand, parse_command
from contextree.tui.format import ts_epoch

LIVE_COMMANDS = frozenset({"scan", "context generate", "watch"})
"""Commands that do work: the TUI follows their session instead of showing their output."""
CANCEL_WAIT_S = 10.0
SESSION_CLOCK_SLACK_S = 2.0
"""A child's session starts after the child; this much clock skew is tolerated."""
ADOPT_AFTER_END_S = 30.0
"""A child that ended before its session was seen (a quick scan) is matched this long after."""


@dataclass(frozen=True)
class CommandResult:
    """How a child command ended, and what it printed."""

    exit_code: int
    output: str
    """stdout."""
    errors: str
    """stderr (the error edge's `error: …` line, warnings)."""

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    @property
    def error_line(self) -> str | None:
        lines = [line for line in self.errors.splitlines() if line.strip()]
        return lines[-1] if lines else None


@dataclass
class CommandRun:
    """One command started from the TUI, in its own process."""

    run_id: int
    line: str
    parsed: ParsedCommand
    process: subprocess.Popen[bytes] | None = None
    session_id: str | None = None
    result: CommandResult | None = None
    cancelled: bool = False
    quiet: bool = False
    """Report only how it ended (a notification), never an output screen."""
    started_epoch: float = field(default_factory=time.time)
    ended_monotonic: float | None = None

    @property
    def live(self) -> bool:
        return self.parsed.name in LIVE_COMMANDS and not self.parsed.wants_help

    @property
    def running(self) -> bool:
        return self.result is None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def summary(self) -> str:
        """One line on how it ended: the error, or the last thing it printed."""
        result = self.result
        if result is None:
            return f"{self.line} is running"
        if result.exit_code == 130:
            return f"{self.line}: cancelled"
        if not result.ok:
            return result.error_line or f"{self.line} failed (exit {result.exit_code})"
        lines = [line for line in result.output.splitlines() if line.strip()]
        return lines[-1] if lines else f"{self.line}: done"


RunCallback = Callable[[CommandRun], object]


def split_line(line: str) -> list[str]:
    """`line` split like a shell would; a leading `ctree` is optional."""
    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise UsageError(f"{exc} — close the quote") from exc
    return words[1:] if words[:1] == ["ctree"] else words


def child_command(workspace: Workspace, words: Sequence[str]) -> list[str]:
    """The argv of `ctree words` run with this interpreter on `workspace` and its store."""
    return [sys.executable, "-m", "contextree", "-C", str(workspace.root),
            "--store", str(workspace.store_path), *words]


class CommandRunner:
    """Parses, starts, follows and cancels the child commands of one TUI."""

    def __init__(self, workspace: Workspace, *, on_finished: RunCallback) -> None:
        self.workspace = workspace
        self._on_finished = on_finished
        self._runs: dict[int, CommandRun] = {}
        self._unadopted: dict[int, CommandRun] = {}
        """Children (running, or ended a moment ago) whose session is not known yet."""
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def parse(self, line: str) -> ParsedCommand:
        """Parse `line` as `ctree` would; `UsageError` with one line if it is invalid."""
        words = split_line(line)
        if not words:
            raise UsageError("type a command, e.g. `status` or `context generate` — "
                             "tab completes")
        try:
            parsed = parse_command(words)
        except click.ClickException as exc:
            raise UsageError(_one_line(exc)) from exc
        reason = refusal(parsed)
        if reason is not None:
            raise UsageError(f"`{parsed.name}` cannot run here: {reason}")
        return parsed

    def start(self, line: str, *, quiet: bool = False) -> CommandRun:
        """Parse `line` and, if it is valid, start it as a child process."""
        parsed = self.parse(line)
        run = CommandRun(next(self._ids), line.strip(), parsed, quiet=quiet)
        # closed by the waiter thread once the child has ended
        output = tempfile.TemporaryFile()  # noqa: SIM115
        errors = tempfile.TemporaryFile()  # noqa: SIM115
        try:
            run.process = subprocess.Popen(
                child_command(self.workspace, parsed.words), stdin=subprocess.DEVNULL,
                stdout=output, stderr=errors, start_new_session=True,
                env={**os.environ, "PYTHONIOENCODING": "utf-8"},
            )
        except OSError as exc:
            output.close()
            errors.close()
            raise UsageError(f"cannot start `ctree {run.line}`: {exc}") from exc
        with self._lock:
            self._runs[run.run_id] = run
            self._unadopted[run.run_id] = run
        threading.Thread(target=self._wait, args=(run, output, errors), daemon=True,
                         name=f"ctree-command-{run.run_id}").start()
        return run

    def running(self) -> list[CommandRun]:
        with self._lock:
            return [run for run in self._runs.values() if run.running]

    def adopt_sessions(self, records: Iterable[SessionRecord]) -> list[CommandRun]:
        """Give each child without a session the one its process owns (matched by pid and
        start time); return the runs that got one now."""
        records = list(records)
        now = time.monotonic()
        adopted = []
        with self._lock:
            waiting = list(self._unadopted.values())
        for run in waiting:
            record = next((record for record in records if owns(run, record)), None)
            if record is not None:
                run.session_id = record.session_id
                adopted.append(run)
            if record is not None or (run.ended_monotonic is not None
                                      and now - run.ended_monotonic > ADOPT_AFTER_END_S):
                with self._lock:
                    self._unadopted.pop(run.run_id, None)
        return adopted

    def cancel(self, run: CommandRun) -> None:
        """Interrupt `run` as Ctrl-C would (once); it ends in its own time."""
        process = run.process
        if run.cancelled or process is None or not run.running:
            return
        run.cancelled = True
        with contextlib.suppress(ProcessLookupError):  # it has just ended
            process.send_signal(signal.SIGINT)

    def cancel_all(self, timeout: float = CANCEL_WAIT_S) -> list[CommandRun]:
        """Cancel every running child and wait for them; return those still running."""
        runs = self.running()
        for run in runs:
            self.cancel(run)
        deadline = time.monotonic() + timeout
        for run in runs:
            if run.process is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    run.process.wait(max(0.0, deadline - time.monotonic()))
        return [run for run in runs if run.process is not None and run.process.poll() is None]

    def leave_running(self) -> list[CommandRun]:
        """Forget every running child (it goes on after the TUI quits); return them."""
        with self._lock:
            runs = [run for run in self._runs.values() if run.running]
            self._runs.clear()
            self._unadopted.clear()
        return runs

    # -- the waiter thread ------------------------------------------------------------------

    def _wait(self, run: CommandRun, output: IO[bytes], errors: IO[bytes]) -> None:
        assert run.process is not None
        code = run.process.wait()
        with output, errors:
            run.result = CommandResult(code, _read(output), _read(errors))
        run.ended_monotonic = time.monotonic()
        with self._lock:
            known = self._runs.pop(run.run_id, None) is not None
        if known:
            self._on_finished(run)


def owns(run: CommandRun, record: SessionRecord) -> bool:
    """Whether `record` is the session of the child `run` (its pid, started after it)."""
    started = ts_epoch(record.started_at)
    return record.pid == run.pid and started is not None \
        and started >= run.started_epoch - SESSION_CLOCK_SLACK_S


def _read(stream: IO[bytes]) -> str:
    stream.seek(0)
    return stream.read().decode("utf-8", errors="replace")


def refusal(parsed: ParsedCommand) -> str | None:
    """Why the command bar will not run `parsed`, or None."""
    if parsed.wants_help:
        return None
    if parsed.name == "tui":
        return "the TUI is already open"
    if parsed.name == "sessions events" and parsed.params.get("follow"):
        return "it streams until the session ends — open the session here instead (2)"
    return None


def _one_line(exc: click.ClickException) -> str:
    message = exc.format_message().strip().splitlines()
    first = message[0] if message else "invalid command"
    context = getattr(exc, "ctx", None)
    if isinstance(exc, click.UsageError) and context is not None:
        path = context.command_path.removeprefix("ctree").strip()
        return f"{first} — try `{path + ' ' if path else ''}--help`"
    return first


def running_summary(runs: Sequence[CommandRun]) -> str:
    """`` `context generate` (session 01J…) `` for the quit question."""
    parts = []
    for run in runs:
        session = f" (session {run.session_id[:12]}…)" if run.session_id else ""
        parts.append(f"`{run.line}`{session}")
    return ", ".join(parts)
