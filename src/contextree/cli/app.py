"""The root `ctree` command group and the error edge.

Errors become one line on stderr naming the fix, exit 1 — a traceback only with `--verbose`.
The same group parses commands typed into the TUI's command bar, so the two never disagree.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING

import click

from contextree import __version__
from contextree.cli.groups import LazyCommand, LazyGroup, help_width
from contextree.cli.main import CANCELLED, CANCELLED_EXIT_CODE
from contextree.errors import ContextreeError

if TYPE_CHECKING:
    from pathlib import Path

COMMANDS = {
    "init": LazyCommand("contextree.cli.init:init",
                        "Create .ctree/ (config.toml, store) in the workspace."),
    "scan": LazyCommand("contextree.cli.scan:scan",
                        "Scan the workspace (or PATH inside it) into the tree; unchanged files "
                        "are not re-read."),
    "status": LazyCommand("contextree.cli.status:status",
                          "Show node counts, the last scan, staleness, context coverage per "
                          "agent and sessions."),
    "watch": LazyCommand("contextree.cli.watch:watch",
                         "Watch the workspace and update the tree after every batch of "
                         "changes."),
    "context": LazyCommand("contextree.cli.context:context",
                           "Generate and read the context frames of the workspace."),
    "sessions": LazyCommand("contextree.cli.sessions:sessions",
                            "Inspect, follow, replay and prune the sessions in the store."),
    "agent": LazyCommand("contextree.cli.agent:agent",
                         "List and inspect the agents that write context frames."),
    "provider": LazyCommand("contextree.cli.provider:provider",
                            "List, inspect and test the LLM providers."),
    "export": LazyCommand("contextree.cli.export:export",
                          "Send sessions to an OpenTelemetry backend, or write them as a "
                          "bundle."),
    "import": LazyCommand("contextree.cli.import_cmd:import_sessions",
                          "Import the sessions of a bundle (from `ctree export jsonl`), whole "
                          "or not at all."),
    "tui": LazyCommand("contextree.cli.tui:tui",
                       "Open the terminal UI: dashboard, live sessions, content, history, "
                       "command bar."),
}
"""Every subcommand: where it lives and its one-line help (a test checks both agree)."""


@click.group(cls=LazyGroup, lazy_commands=COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-C", "--workspace", "workspace", type=click.Path(file_okay=False),
              help="Workspace root (default: the nearest folder up from here holding .ctree/).")
@click.option("--store", envvar="CTREE_STORE", type=click.Path(file_okay=False),
              help="Store directory (default: <workspace>/.ctree/store; env CTREE_STORE).")
@click.option("-v", "--verbose", is_flag=True, help="Show debug logs and tracebacks.")
@click.version_option(__version__, prog_name="ctree")
@click.pass_context
def cli(ctx: click.Context, workspace: str | None, store: str | None, verbose: bool) -> None:
    """contextree — AI-generated context for a codebase, every command a replayable session."""
    # Loaded here, not at the top: `--help` and the bare group never resolve a workspace.
    from pathlib import Path

    from contextree.cli.common import CliContext
    from contextree.cli.logs import configure_logging
    from contextree.engine.workspace.layout import resolve_workspace

    configure_logging(verbose)
    resolved = resolve_workspace(workspace, store)
    _store_in_use.set(resolved.store_path)
    invocation_dir = resolved.root if workspace is not None else Path.cwd().resolve()
    ctx.obj = CliContext(workspace=resolved, verbose=verbose, invocation_dir=invocation_dir)


def run(argv: Sequence[str] | None = None) -> int:
    """Run `ctree` with `argv`; return the exit code (the error edge lives here)."""
    args = list(sys.argv[1:] if argv is None else argv)
    verbose = "-v" in args or "--verbose" in args
    try:
        result = cli.main(args=args, prog_name="ctree", standalone_mode=False,
                          terminal_width=help_width())
    except click.exceptions.Exit as exit_:
        return exit_.exit_code
    except click.ClickException as exc:
        _print_error(_usage_message(exc))
        return 1
    except (click.exceptions.Abort, KeyboardInterrupt):  # click turns Ctrl-C into Abort
        _print_error(CANCELLED)
        return CANCELLED_EXIT_CODE
    except ContextreeError as exc:
        from contextree.cli.common import with_command_hint

        if verbose:
            _print_traceback()
        _print_error(with_command_hint(exc))
        return 1
    except OSError as exc:
        if verbose:
            _print_traceback()
        _print_error(_os_error_message(exc))
        return 1
    except Exception as exc:  # a bug: say so in one line, full detail with --verbose
        if verbose:
            _print_traceback()
        if _is_store_damage(exc):
            _print_error(f"store {_store_in_use.get()} is damaged: {exc} — restore it from a "
                         "copy, or pass --store")
            return 1
        _print_error(f"unexpected {type(exc).__name__}: {exc} — rerun with --verbose for details")
        return 1
    return result if isinstance(result, int) else 0


_store_in_use: ContextVar[Path | None] = ContextVar("store_in_use", default=None)
"""The store of the command running in this context, for the one line about a damaged one."""


def _is_store_damage(exc: Exception) -> bool:
    """An LMDB error met after the store opened (a page corrupted, a page not found)."""
    lmdb = sys.modules.get("lmdb")  # loaded only if the command used the store
    return lmdb is not None and isinstance(exc, lmdb.Error)


def _print_traceback() -> None:
    import traceback

    traceback.print_exc()


def _os_error_message(exc: OSError) -> str:
    where = f" ({exc.filename})" if exc.filename else ""
    reason = exc.strerror or str(exc)
    if isinstance(exc, PermissionError):
        return f"permission denied{where} — check the path's owner and permissions"
    if exc.errno == 28:
        return f"no space left on device{where} — free disk space and rerun"
    return f"{reason}{where} — check the path and the disk"


def _usage_message(exc: click.ClickException) -> str:
    message = exc.format_message()
    context = getattr(exc, "ctx", None)
    if isinstance(exc, click.UsageError) and context is not None:
        return f"{message} — run `{context.command_path} --help`"
    return message


def _print_error(message: str) -> None:
    first_line = message.strip().splitlines()[0] if message.strip() else "failed"
    click.echo(f"error: {first_line}", err=True)


def main() -> None:
    """Console entry point (the installed script calls `contextree.cli.main.main`)."""
    from contextree.cli.main import main as guarded_main

    guarded_main()
