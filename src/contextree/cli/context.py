"""`ctree context generate|get`: write context frames for the workspace, and read them.

`generate` runs as the session `context.generate`: it prints the session id, paints a live
progress view while it works (on a terminal), then a summary; it exits 1 when any node failed.
`get` is a read: it opens the store read-only, records no session, and prints a node's head
frame (raw markdown when piped, rendered on a terminal), its history with `--history`, or
JSON with `--json`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click
import msgspec
from rich.markup import escape

from contextree.cli.common import CliContext, open_store_readonly, pass_cli, run_session
from contextree.cli.console import output_console
from contextree.cli.groups import HelpGroup
from contextree.engine.generation.agents import resolve_agent
from contextree.engine.generation.read import ContextView, read_context
from contextree.engine.workspace.config import load_config
from contextree.errors import GenerationError, UsageError

if TYPE_CHECKING:
    from rich.console import Console

    from contextree.engine.generation.frames import Frame
    from contextree.engine.generation.orchestrator import GenerationOutcome
    from contextree.progress.session import Session

_json = msgspec.json.Encoder()


@click.group(cls=HelpGroup)
def context() -> None:
    """Generate and read the context frames of the workspace."""


@context.command("generate")
@click.argument("path", required=False)
@click.option("--agent", "agent_id", help="Agent to write with (default: [defaults] agent).")
@click.option("--provider", "provider_name",
              help="Provider to call (default: [defaults] provider).")
@click.option("--force", is_flag=True, help="Regenerate nodes that already have context.")
@click.option("--no-recursive", is_flag=True,
              help="Only PATH itself; a directory needs context for everything beneath it.")
@click.option("--concurrency", type=click.IntRange(min=1),
              help="Requests at once (each provider's max_concurrency still applies).")
@click.option("--keep-going", is_flag=True,
              help="Go on after a level with failures, skipping the failed nodes' ancestors.")
@pass_cli
def generate(cli: CliContext, path: str | None, agent_id: str | None,
             provider_name: str | None, force: bool, no_recursive: bool,
             concurrency: int | None, keep_going: bool) -> None:
    """Generate context for PATH (default: the whole workspace), leaves first."""
    # The generation machinery (asyncio, providers, the live view) loads only here.
    from contextree.cli.live import LiveProgress
    from contextree.engine.generation.generate import GenerateOptions, generate_context

    options = GenerateOptions(path=cli.path_argument(path), agent_id=agent_id,
                              provider_name=provider_name, force=force,
                              recursive=not no_recursive, concurrency=concurrency,
                              keep_going=keep_going)
    console = output_console()

    def body(session: Session) -> dict[str, Any]:
        console.print(f"session {session.session_id} (context.generate)")
        with LiveProgress(session.store, session.session_id, console,
                          enabled=console.is_terminal):
            outcome = generate_context(cli.workspace, session.store, session, options)
        _print_outcome(console, outcome, session.session_id)
        if not outcome.ok:
            first_path, first_error = outcome.failures[0]
            raise GenerationError(
                f"{outcome.failed} node(s) failed (first: {first_path}: {first_error}) — see "
                f"`ctree sessions replay {session.session_id}`"
            )
        return outcome.summary()

    run_session(cli, "context.generate", options.session_args(), body)


def _print_outcome(console: Console, outcome: GenerationOutcome, session_id: str) -> None:
    parts = [f"{outcome.generated} generated", f"{outcome.reused} up to date"]
    if outcome.blocked:
        parts.append(f"{outcome.blocked} skipped (ancestors of failures)")
    if outcome.failed:
        parts.append(f"[red]{outcome.failed} failed[/]")
    tokens = ""
    if outcome.input_tokens or outcome.output_tokens:
        tokens = f", tokens {outcome.input_tokens:,} in / {outcome.output_tokens:,} out"
    console.print(f"{', '.join(parts)} — {outcome.total_nodes} nodes in "
                  f"{outcome.duration_ms / 1000:.1f}s{tokens}")
    for failed_path, error in outcome.failures[:10]:
        console.print(f"  [red]✗[/] {escape(failed_path)}: {escape(error)}", soft_wrap=True)
    if outcome.stopped_after_level is not None:
        console.print(f"stopped after level {outcome.stopped_after_level + 1} — rerun with "
                      "--keep-going to generate the rest")


@context.command("get")
@click.argument("path")
@click.option("--agent", "agent_id", help="Whose context (default: [defaults] agent).")
@click.option("--json", "as_json", is_flag=True, help="Print the frame and metadata as JSON.")
@click.option("--history", is_flag=True, help="Every frame of PATH, oldest first.")
@pass_cli
def get(cli: CliContext, path: str, agent_id: str | None, as_json: bool, history: bool) -> None:
    """Print the context of PATH."""
    relative = cli.path_argument(path)
    agent = resolve_agent(load_config(cli.workspace), agent_id)
    store = open_store_readonly(cli)
    try:
        view = read_context(cli.workspace, store, relative, agent)
    finally:
        store.close()
    if view.frame is None and not as_json:
        raise UsageError(f"no {agent.id} context for {view.record.path} yet — run "
                         f"`ctree context generate {view.record.path}`")
    if as_json:
        click.echo(_json.encode(view.to_json(with_history=history)).decode())
    elif history:
        _print_history(view)
    else:
        _print_frame(view)


def _print_frame(view: ContextView) -> None:
    frame = view.frame
    assert frame is not None
    console = output_console()
    warning = _warning(view)
    if warning:
        click.echo(f"warning: {warning}", err=True)
    if not console.is_terminal:
        click.echo(frame.content, nl=not frame.content.endswith("\n"))
        return
    from rich.markdown import Markdown  # the renderer (and pygments) only for a terminal

    console.print(f"[dim]{escape(_describe(frame))}[/]", soft_wrap=True)
    console.print(Markdown(frame.content))


def _warning(view: ContextView) -> str | None:
    path = view.record.path
    if view.outdated:
        return (f"this context describes an earlier version of {path} — run "
                f"`ctree context generate {path}`")
    if view.changed_on_disk:
        return f"{path} changed since the last scan — run `ctree context generate {path}`"
    return None


def _describe(frame: Frame) -> str:
    tokens = ""
    if frame.input_tokens is not None or frame.output_tokens is not None:
        tokens = f" · {frame.input_tokens or 0} in / {frame.output_tokens or 0} out tokens"
    session = f" · session {frame.session_id}" if frame.session_id else ""
    return (f"{frame.path} · {frame.agent_id} · {frame.provider_name} ({frame.model}) · "
            f"{frame.created_at} · frame {frame.frame_id[:12]}{tokens}{session}")


def _print_history(view: ContextView) -> None:
    if not view.history:
        click.echo(f"no {view.agent_id} context for {view.record.path} yet")
        return
    console = output_console()
    head_index = view.head_index
    for number, frame in enumerate(view.history, start=1):
        marker = "current" if frame.node_id == view.record.id else "earlier version"
        is_head = number - 1 == head_index
        console.print(f"[bold]#{number}[/] {escape(_describe(frame))} · {marker}"
                      f"{' · head' if is_head else ''}", soft_wrap=True)
        console.print(frame.content.rstrip("\n"), markup=False)
        console.print()
