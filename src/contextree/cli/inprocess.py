"""Running `ctree` commands inside another program (the TUI's command bar), output captured.

`parse_command` walks the root group with click's own `make_context`, exactly as the CLI
parses, and runs nothing: an invalid command is a `click.UsageError` before any session
exists. `run_captured` then runs the command through `run` — the CLI's error edge, so a
failure is the same one line — with what it writes to stdout and stderr captured for the
calling thread only: every other thread (a UI's own) keeps writing where it did. Commands
write through `sys.stdout` (`click.echo`, `rich.Console`), so capturing is a router installed
over `sys.stdout` and `sys.stderr` while at least one capture is open, which sends each
thread's writes to that thread's buffer or, for a thread capturing nothing, where they went
before. The captured streams are not terminals: commands print plain text, no live display.
"""

from __future__ import annotations

import io
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TextIO

import click

from contextree.cli.app import cli, run
from contextree.cli.common import listen_for_sessions
from contextree.progress import Session


@dataclass(frozen=True)
class ParsedCommand:
    """A command line that click accepted: its subcommand path and the leaf's parameters."""

    argv: tuple[str, ...]
    path: tuple[str, ...]
    """The subcommand names, e.g. `("context", "generate")`."""
    params: dict[str, Any] = field(default_factory=dict)
    help_text: str | None = None
    """Set when the line only asks for help (`--help`, `--version`, a bare group): the text
    to show, already produced — nothing is left to run."""

    @property
    def name(self) -> str:
        return " ".join(self.path)


@dataclass(frozen=True)
class CommandResult:
    """How a command run in-process ended, and everything it wrote."""

    exit_code: int
    output: str
    """stdout and stderr, interleaved as written."""
    errors: str
    """stderr alone (the error edge's `error: …` line)."""

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    @property
    def error_line(self) -> str | None:
        lines = [line for line in self.errors.splitlines() if line.strip()]
        return lines[-1] if lines else None


def parse_command(argv: Sequence[str]) -> ParsedCommand:
    """Parse `argv` with the `ctree` group down to the leaf command; run nothing.

    Raises `click.UsageError` (or another `click.ClickException`) for an invalid line.
    """
    args = list(argv)
    path: list[str] = []
    with captured_output() as capture:
        try:
            ctx = cli.make_context("ctree", list(args))
            command: click.Command = cli
            while isinstance(command, click.Group):
                rest = [*ctx._protected_args, *ctx.args]  # what click's own completion reads
                if not rest:  # a bare group: its help, as `ctree GROUP` prints it
                    return ParsedCommand(tuple(args), tuple(path), help_text=ctx.get_help())
                name, sub, rest = command.resolve_command(ctx, rest)
                if name is None or sub is None:
                    raise click.UsageError(f"no such command {rest[0]!r}", ctx)
                path.append(name)
                ctx = sub.make_context(name, rest, parent=ctx)
                command = sub
        except click.exceptions.NoArgsIsHelpError as exc:
            return ParsedCommand(tuple(args), tuple(path), help_text=exc.ctx.get_help()
                                 if exc.ctx is not None else exc.format_message())
        except click.exceptions.Exit:  # --help or --version printed and stopped
            return ParsedCommand(tuple(args), tuple(path), help_text=capture.output())
    return ParsedCommand(tuple(args), tuple(path), params=dict(ctx.params))


def run_captured(argv: Sequence[str], *,
                 on_session: Callable[[Session], object] | None = None) -> CommandResult:
    """Run `ctree argv` in this thread, through the CLI's error edge, capturing its output.

    `on_session` is called (in this thread) with the session the command starts, if any.
    A `KeyboardInterrupt` raised in this thread cancels the command as Ctrl-C would.
    """
    with captured_output() as capture, listen_for_sessions(on_session):
        code = run(list(argv))
    return CommandResult(code, capture.output(), capture.errors())


# -- capturing one thread's output ----------------------------------------------------------


class Capture:
    """What one thread wrote to stdout and stderr while captured."""

    def __init__(self) -> None:
        self._all: list[str] = []
        self._errors: list[str] = []
        self._lock = threading.Lock()

    def write(self, text: str, *, error: bool) -> None:
        with self._lock:
            self._all.append(text)
            if error:
                self._errors.append(text)

    def output(self) -> str:
        with self._lock:
            return "".join(self._all)

    def errors(self) -> str:
        with self._lock:
            return "".join(self._errors)


class _ThreadRouter(io.TextIOBase):
    """A `sys.stdout`/`sys.stderr` stand-in: a capturing thread's writes go to its `Capture`,
    everyone else's to the stream that was there before."""

    def __init__(self, fallback: TextIO, *, error: bool) -> None:
        super().__init__()
        self.fallback = fallback
        self.error = error
        self.detached = False

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    @property
    def errors(self) -> str:  # type: ignore[override]
        return "strict"

    def _target(self) -> Capture | None:
        return _captures.get(threading.get_ident())

    def _outside(self) -> TextIO:
        """Where a thread that captures nothing writes; after uninstalling (a logging
        handler may keep this object), whatever the process's stream is now."""
        if not self.detached:
            return self.fallback
        current = sys.stderr if self.error else sys.stdout
        return self.fallback if current is self else current

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        capture = self._target()
        if capture is not None:
            capture.write(text, error=self.error)
            return len(text)
        return self._outside().write(text)

    def flush(self) -> None:
        if self._target() is None:
            self._outside().flush()

    def isatty(self) -> bool:
        return False if self._target() is not None else self._outside().isatty()

    def writable(self) -> bool:
        return True


_captures: dict[int, Capture] = {}
_routers: list[_ThreadRouter] = []
_install_lock = threading.Lock()


@contextmanager
def captured_output() -> Iterator[Capture]:
    """Capture what this thread writes to stdout and stderr during the block."""
    capture = Capture()
    ident = threading.get_ident()
    with _install_lock:
        if ident in _captures:
            raise RuntimeError("this thread is already capturing its output")
        if not _captures:
            _install()
        _captures[ident] = capture
    try:
        yield capture
    finally:
        with _install_lock:
            del _captures[ident]
            if not _captures:
                _uninstall()


def _install() -> None:
    out = _ThreadRouter(sys.stdout, error=False)
    err = _ThreadRouter(sys.stderr, error=True)
    _routers[:] = [out, err]
    sys.stdout, sys.stderr = out, err  # type: ignore[assignment]


def _uninstall() -> None:
    out, err = _routers
    for router in _routers:
        router.detached = True
    if sys.stdout is out:
        sys.stdout = out.fallback
    if sys.stderr is err:
        sys.stderr = err.fallback
    _routers.clear()
