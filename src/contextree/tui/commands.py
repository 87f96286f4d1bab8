"""Commands typed into the TUI: parsed by the `ctree` click group, run on worker threads.

`CommandRunner.start(line)` splits the line like a shell, parses it with the CLI's own group
(`parse_command`) — an invalid line raises `UsageError` and nothing runs, so no session is
created — and runs it in-process on its own thread with its output captured
(`run_captured`). Commands that do work (`LIVE_COMMANDS`) are watched in the session view: the
runner reports the session as soon as it starts. The others are short and show their output.
`cancel` raises `KeyboardInterrupt` in the command's thread — what Ctrl-C does to a command
in a shell — so it unwinds through the same path: its session ends `failed` with `cancelled`.
No Textual here: the UI passes callbacks, called from the command's thread, which post a
message.
"""

from __future__ import annotations

import ctypes
import itertools
import shlex
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import click

from contextree.cli.inprocess import CommandResult, ParsedCommand, parse_command, run_captured
from contextree.engine.workspace.layout import Workspace
from contextree.errors import UsageError
from contextree.progress import Session

LIVE_COMMANDS = frozenset({"scan", "context generate", "watch"})
"""Commands that do work: the TUI follows their session instead of showing their output."""
CANCEL_WAIT_S = 10.0
CANCELLED = CommandResult(130, "error: cancelled\n", "error: cancelled\n")


@dataclass
class CommandRun:
    """One command started from the TUI."""

    run_id: int
    line: str
    parsed: ParsedCommand
    session_id: str | None = None
    result: CommandResult | None = None
    cancelled: bool = False
    interruptible: bool = True
    """The command has not returned yet: a cancel may still interrupt its thread."""
    started_s: float = field(default_factory=time.monotonic)
    thread: threading.Thread | None = None

    @property
    def live(self) -> bool:
        return self.parsed.name in LIVE_COMMANDS

    @property
    def running(self) -> bool:
        return self.result is None

    def summary(self) -> str:
        """One line on how it ended: the error, or the last thing it printed."""
        result = self.result
        if result is None:
            return f"{self.line} is running"
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


class CommandRunner:
    """Parses, runs and cancels the commands of one TUI, each on its own thread."""

    def __init__(self, workspace: Workspace, *, on_session: RunCallback,
                 on_finished: RunCallback) -> None:
        self.workspace = workspace
        self._on_session = on_session
        self._on_finished = on_finished
        self._runs: dict[int, CommandRun] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def workspace_args(self) -> list[str]:
        """The global options that point a command at the TUI's workspace and store."""
        return ["-C", str(self.workspace.root), "--store", str(self.workspace.store_path)]

    def parse(self, line: str) -> ParsedCommand:
        """Parse `line` as `ctree` would; `UsageError` with one line if it is invalid."""
        words = split_line(line)
        if not words:
            raise UsageError("type a command, e.g. `status` or `context generate` — "
                             "tab completes")
        try:
            parsed = parse_command([*self.workspace_args(), *words])
        except click.ClickException as exc:
            raise UsageError(_one_line(exc)) from exc
        reason = refusal(parsed)
        if reason is not None:
            raise UsageError(f"`{parsed.name}` cannot run here: {reason}")
        return parsed

    def start(self, line: str) -> CommandRun:
        """Parse `line` and, if it is valid and not only help, run it on a new thread."""
        parsed = self.parse(line)
        run = CommandRun(next(self._ids), line.strip(), parsed)
        if parsed.help_text is not None:
            run.result = CommandResult(0, parsed.help_text, "")
            return run
        thread = threading.Thread(target=self._run, args=(run,), daemon=True,
                                  name=f"ctree-command-{run.run_id}")
        run.thread = thread
        with self._lock:
            self._runs[run.run_id] = run
        thread.start()
        return run

    def running(self) -> list[CommandRun]:
        with self._lock:
            return [run for run in self._runs.values() if run.running]

    def cancel(self, run: CommandRun) -> None:
        """Interrupt `run` as Ctrl-C would (once); it ends on its own thread."""
        thread = run.thread
        with self._lock:
            if run.cancelled or not run.interruptible or thread is None or thread.ident is None:
                return
            run.cancelled = True
            _raise_in_thread(thread.ident, KeyboardInterrupt)

    def cancel_all(self, timeout: float = CANCEL_WAIT_S) -> list[CommandRun]:
        """Cancel every running command and wait for them; return those still running."""
        runs = self.running()
        for run in runs:
            self.cancel(run)
        deadline = time.monotonic() + timeout
        for run in runs:
            if run.thread is not None:
                run.thread.join(max(0.0, deadline - time.monotonic()))
        return [run for run in runs if run.running]

    # -- the command's thread -------------------------------------------------------------

    def _run(self, run: CommandRun) -> None:
        result: CommandResult | None = None
        while True:
            try:
                if result is None:
                    result = self._command(run)
                with self._lock:  # from here on no cancel can reach this thread
                    run.interruptible = False
                    if run.cancelled:
                        _raise_in_thread(threading.get_ident(), None)  # drop one not raised
                break
            except KeyboardInterrupt:  # the cancel landed just as the command returned
                result = result or CANCELLED
        run.result = result
        with self._lock:
            self._runs.pop(run.run_id, None)
        self._on_finished(run)

    def _command(self, run: CommandRun) -> CommandResult:
        try:
            return run_captured(run.parsed.argv,
                                on_session=lambda session: self._started(run, session))
        except KeyboardInterrupt:  # cancelled outside the CLI's edge
            return CANCELLED
        except Exception as exc:  # a bug: report it in the UI, never kill the thread
            message = f"error: unexpected {type(exc).__name__}: {exc}\n"
            return CommandResult(1, message, message)

    def _started(self, run: CommandRun, session: Session) -> None:
        run.session_id = session.session_id
        self._on_session(run)


def refusal(parsed: ParsedCommand) -> str | None:
    """Why the command bar will not run `parsed`, or None."""
    if parsed.help_text is not None:
        return None
    if parsed.name == "tui":
        return "the TUI is already open"
    if parsed.name == "sessions events" and parsed.params.get("follow"):
        return "it streams until the session ends — open the session here instead (2)"
    return None


def _raise_in_thread(thread_id: int, exception: type[BaseException] | None) -> None:
    """Raise `exception` in the thread `thread_id` at its next bytecode (None: forget one
    posted and not yet raised) — CPython's asynchronous exception, as Ctrl-C is."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exception) if exception else None)


def _one_line(exc: click.ClickException) -> str:
    message = exc.format_message().strip().splitlines()
    first = message[0] if message else "invalid command"
    context = getattr(exc, "ctx", None)
    if isinstance(exc, click.UsageError) and context is not None:
        path = context.command_path.removeprefix("ctree").strip()
        return f"{first} — try `{path + ' ' if path else ''}--help`"
    return first


def running_summary(runs: Sequence[CommandRun]) -> str:
    """`context generate (session 01J…)` for the quit confirmation."""
    parts = []
    for run in runs:
        session = f" (session {run.session_id[:12]}…)" if run.session_id else ""
        parts.append(f"`{run.line}`{session}")
    return ", ".join(parts)
