"""What every command shares: the resolved workspace, and running a command as a session.

`run_session` is the one place a command becomes a session: it opens the store (creating the
workspace where the command may), starts the session, runs the command's body, emits
`command_summary`, ends the session (`failed` with the error if the body raised), makes it
durable and prunes old sessions per the workspace policy. Reads go through `open_store`, which
creates nothing.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

import click

from contextree.engine.workspace.layout import CTREE_DIR, Workspace, init_workspace
from contextree.errors import (
    ContextreeError,
    SessionNotFoundError,
    StoreNotFoundError,
    WorkspaceError,
)
from contextree.progress.catalog import EventType

if TYPE_CHECKING:
    from contextree.progress.runtime import ProgressRuntime
    from contextree.progress.session import Session
    from contextree.progress.store import EventStore

AUTO_PRUNE_LIMIT = 20
"""At most this many sessions are pruned after a command, so the prune stays cheap."""

NO_WORKSPACE = "no contextree workspace here or in any parent — run `ctree init`"

CTREE_STORE_RELATIVE = Path(CTREE_DIR) / "store"


def uses_default_store(workspace: Workspace) -> bool:
    """Whether the store is the workspace's own (no `--store` or `CTREE_STORE`)."""
    return workspace.store_path == workspace.root / CTREE_STORE_RELATIVE


@dataclass
class CliContext:
    """The resolved global options, passed to every command."""

    workspace: Workspace
    verbose: bool = False
    quiet_session_line: bool = False
    invocation_dir: Path | None = None
    """Where the command was run (`-C`'s folder with `-C`): paths given on the command line
    are relative to it, as git's are. None means the workspace root."""

    @overload
    def path_argument(self, path: str) -> str: ...

    @overload
    def path_argument(self, path: None) -> None: ...

    def path_argument(self, path: str | None) -> str | None:
        """A path from the command line, relative to where the command was run, as the engine
        takes it: workspace-relative when inside the workspace, else absolute (the engine then
        says it is outside). None stays None."""
        if path is None:
            return None
        base = self.invocation_dir if self.invocation_dir is not None else self.workspace.root
        full = Path(os.path.normpath(base / Path(path)))
        if not full.is_relative_to(self.workspace.root):
            return str(full)
        return full.relative_to(self.workspace.root).as_posix() or "."

    def here(self) -> CliContext:
        """This context with the invocation folder itself as the workspace (`ctree init`)."""
        if self.invocation_dir is None or self.invocation_dir == self.workspace.root:
            return self
        store = self.workspace.store_path
        if uses_default_store(self.workspace):
            store = self.invocation_dir / CTREE_STORE_RELATIVE
        workspace = Workspace(root=self.invocation_dir, store_path=store)
        return replace(self, workspace=workspace)


pass_cli = click.make_pass_decorator(CliContext)

SessionBody = Callable[["Session"], dict[str, Any]]


def run_session(
    cli: CliContext, command: str, args: dict[str, Any], body: SessionBody, *,
    creates_workspace: bool = True, prune_after: bool = True,
) -> dict[str, Any]:
    """Run `body` as the session `command`; return its summary counts.

    Where no workspace exists, one is made in the invocation folder (saying so in one line on
    stderr) if `creates_workspace`, else the command fails naming `ctree init`. Old sessions
    are pruned afterwards unless `prune_after` is False (a dry run).
    """
    workspace = cli.workspace
    if uses_default_store(workspace):
        existed = workspace.exists
        if not existed and not creates_workspace:
            raise WorkspaceError(NO_WORKSPACE)
        init_workspace(workspace)
        if not existed:
            click.echo(f"created a contextree workspace: {workspace.ctree_dir}", err=True)
    from contextree.progress.runtime import ProgressRuntime  # the writer side, loaded on use

    runtime = ProgressRuntime.open(workspace.store_path)
    try:
        summary = _run_body(runtime, workspace, command, args, body)
        if prune_after:
            auto_prune(runtime.store, workspace)
    finally:
        runtime.close()
    return summary


def _run_body(
    runtime: ProgressRuntime,
    workspace: Workspace,
    command: str,
    args: dict[str, Any],
    body: SessionBody,
) -> dict[str, Any]:
    started = time.monotonic()
    with runtime.session(command, args, workspace=workspace.root) as session:
        try:
            summary = body(session)
        except BaseException as exc:
            from contextree.progress.session import failure_message

            _emit_summary(session, command, started, ok=False, error=failure_message(exc))
            raise
        _emit_summary(session, command, started, ok=True, **summary)
    return summary


def _emit_summary(session: Session, command: str, started: float, *, ok: bool,
                  **counts: Any) -> None:
    duration_ms = int((time.monotonic() - started) * 1000)
    session.emit(EventType.COMMAND_SUMMARY, {**counts, "command": command, "ok": ok,
                                     "duration_ms": duration_ms})


def with_command_hint(exc: ContextreeError) -> str:
    """The core's message, plus which command to run next where the CLI knows one."""
    message = str(exc)
    if isinstance(exc, StoreNotFoundError):
        return f"{message} — run `ctree init` here, or pass -C/--store"
    if isinstance(exc, SessionNotFoundError):
        if exc.reason == SessionNotFoundError.NO_SESSIONS:
            return f"{message} — run a command such as `ctree scan`"
        if exc.reason == SessionNotFoundError.NO_MATCH:
            return f"{message} — run `ctree sessions list`"
    return message


def auto_prune(store: EventStore, workspace: Workspace) -> None:
    """Prune ended sessions per the workspace policy; bounded, and never fatal."""
    try:
        policy = sessions_policy(workspace)
        store.prune(max_age_s=policy[0], max_count=policy[1], now_s=time.time(),
                    limit=AUTO_PRUNE_LIMIT)
    except ContextreeError as exc:
        import logging  # loaded only on this rare path: start-up stays light

        logging.getLogger(__name__).warning("automatic pruning skipped: %s", exc)


def sessions_policy(workspace: Workspace) -> tuple[float, int]:
    """`(max_age_s, max_count)` from the configuration."""
    from contextree.engine.workspace.config import load_config

    policy = load_config(workspace).sessions
    return policy.max_age_s, policy.max_count


def existing_store_path(cli: CliContext) -> Path:
    """The store a read opens, or a one-line error where no workspace is found: a read creates
    nothing (no `.ctree/`, no store, no session)."""
    if uses_default_store(cli.workspace) and not cli.workspace.exists:
        raise WorkspaceError(NO_WORKSPACE)
    return cli.workspace.store_path


def open_store(cli: CliContext) -> EventStore:
    """Open the existing store for writing (never creates one)."""
    from contextree.progress.store import EventStore

    return EventStore.open(existing_store_path(cli), create=False)


def open_store_readonly(cli: CliContext) -> EventStore:
    """Open the existing store for a read command: no write lock, so a writer stopped in the
    middle of a commit does not block it, and nothing is created."""
    from contextree.progress.store import EventStore

    return EventStore.open_readonly(existing_store_path(cli))
