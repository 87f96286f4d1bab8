"""Messages of the TUI: requests the views post up to the app (which owns the store, the
poller, the command runner and navigation), and what worker threads post to wake the UI."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from contextree.tui.commands import CommandRun


class OpenSession(Message):
    """Show a session in the session view: live (it follows new events) or as a replay."""

    def __init__(self, session_id: str, *, replay: bool = False) -> None:
        super().__init__()
        self.session_id = session_id
        self.replay = replay


class RefreshRequested(Message):
    """The user asked for fresh data (`r`)."""


class FeedReady(Message):
    """A feed thread has events pending (posted from the thread); a burst collapses into one."""

    def __init__(self, token: int) -> None:
        super().__init__()
        self.token = token

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, FeedReady) and message.token == self.token


class RunCommand(Message):
    """Run a `ctree` command line as if typed in the command bar (`g`, `s`, `f` …); a `quiet`
    one (a delete, a prune) only notifies how it ended."""

    def __init__(self, line: str, *, quiet: bool = False) -> None:
        super().__init__()
        self.line = line
        self.quiet = quiet


class CommandFinished(Message):
    """A command started from the TUI ended (posted from its waiter thread)."""

    def __init__(self, run: CommandRun) -> None:
        super().__init__()
        self.run = run


class LogNotice(Message):
    """A warning logged on any thread while the app runs, to show as a notification."""

    def __init__(self, text: str, severity: str) -> None:
        super().__init__()
        self.text = text
        self.severity = severity
