"""The root `ctree` command group and the error edge.

Errors become one line on stderr naming the fix, exit 1 — a traceback only with `--verbose`.
The same group parses commands typed into the TUI's command bar, so the two never disagree.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Sequence

import click

from contextree import __version__
from contextree.cli.common import CliContext, with_command_hint
from contextree.engine.workspace.layout import resolve_workspace
from contextree.errors import ContextreeError
from contextree.progress.session import CANCELLED
from contextree.secrets import redact_registered, scrub_text


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-C", "--workspace", "workspace", type=click.Path(file_okay=False),
              help="Workspace root (default: the current directory).")
@click.option("--store", envvar="CTREE_STORE", type=click.Path(file_okay=False),
              help="Store directory (default: <workspace>/.ctree/store; env CTREE_STORE).")
@click.option("-v", "--verbose", is_flag=True, help="Show debug logs and tracebacks.")
@click.version_option(__version__, prog_name="ctree")
@click.pass_context
def cli(ctx: click.Context, workspace: str | None, store: str | None, verbose: bool) -> None:
    """contextree — AI-generated context for a codebase, every command a replayable session."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactCredentials) for f in handler.filters):
            handler.addFilter(RedactCredentials())
    ctx.obj = CliContext(workspace=resolve_workspace(workspace, store), verbose=verbose)


class RedactCredentials(logging.Filter):
    """Keeps credentials out of the logs, whoever logs them: libraries log request URLs
    (httpx: `HTTP Request: POST http://user:password@host/…`) and may log headers. A URL's
    password, Bearer and Basic credentials and every registered API key are replaced."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        scrubbed = redact_registered(scrub_text(message))
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        return True


def _register() -> None:
    from contextree.cli.init import init
    from contextree.cli.sessions import sessions
    from contextree.cli.tui import tui

    cli.add_command(init)
    cli.add_command(sessions)
    cli.add_command(tui)

    from contextree.cli.scan import scan
    from contextree.cli.status import status
    from contextree.cli.watch import watch

    cli.add_command(scan)
    cli.add_command(status)
    cli.add_command(watch)

    from contextree.cli.agent import agent
    from contextree.cli.context import context
    from contextree.cli.provider import provider

    cli.add_command(context)
    cli.add_command(agent)
    cli.add_command(provider)

    from contextree.cli.export import export
    from contextree.cli.import_cmd import import_sessions

    cli.add_command(export)
    cli.add_command(import_sessions)


_register()


def run(argv: Sequence[str] | None = None) -> int:
    """Run `ctree` with `argv`; return the exit code (the error edge lives here)."""
    args = list(sys.argv[1:] if argv is None else argv)
    verbose = "-v" in args or "--verbose" in args
    try:
        result = cli.main(args=args, prog_name="ctree", standalone_mode=False)
    except click.exceptions.Exit as exit_:
        return exit_.exit_code
    except click.ClickException as exc:
        _print_error(_usage_message(exc))
        return 1
    except (click.exceptions.Abort, KeyboardInterrupt):  # click turns Ctrl-C into Abort
        _print_error(CANCELLED)
        return 130
    except ContextreeError as exc:
        if verbose:
            traceback.print_exc()
        _print_error(with_command_hint(exc))
        return 1
    except OSError as exc:
        if verbose:
            traceback.print_exc()
        _print_error(_os_error_message(exc))
        return 1
    except Exception as exc:  # a bug: say so in one line, full detail with --verbose
        if verbose:
            traceback.print_exc()
        _print_error(f"unexpected {type(exc).__name__}: {exc} — rerun with --verbose for details")
        return 1
    return result if isinstance(result, int) else 0


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
    """Console entry point."""
    sys.exit(run())
