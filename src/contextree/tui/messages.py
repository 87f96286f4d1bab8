"""Messages of the TUI: requests the views post up to the app (which owns the store, the
poller and navigation), and the wake-up a feed thread posts to its view."""

from __future__ import annotations

from textual.message import Message


class OpenSession(Message):
    """Show a session in the session view: live (it follows new events) or as a replay."""

    def __init__(self, session_id: str, *, replay: bool = False) -> None:
        super().__init__()
        self.session_id = session_id
        self.replay = replay


class StoreChanged(Message):
    """The TUI changed the store (a delete, a prune): read the session list again."""


class RefreshRequested(Message):
    """The user asked for fresh data (`r`)."""


class FeedReady(Message):
    """A feed thread has events pending (posted from the thread); a burst collapses into one."""

    def __init__(self, token: int) -> None:
        super().__init__()
        self.token = token

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, FeedReady) and message.token == self.token
