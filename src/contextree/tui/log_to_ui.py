"""Log records become notifications while the TUI runs.

Commands run from the command bar log on their own threads; the root logger's handler writes
to the terminal, which the TUI owns — a warning would scribble over the screen. While the app
runs, `UiLogHandler.install()` sets aside the root handlers that write to a terminal and
forwards warnings and errors to `post` (which posts a message: thread-safe); `uninstall()`
puts everything back. No Textual here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

Post = Callable[[str, str], object]
"""`post(text, severity)`, severity `warning` or `error`."""


class UiLogHandler(logging.Handler):
    """Forwards WARNING and above to `post` while installed on the root logger."""

    def __init__(self, post: Post) -> None:
        super().__init__(level=logging.WARNING)
        self._post = post
        self._set_aside: list[logging.Handler] = []
        self.setFormatter(logging.Formatter("%(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            severity = "error" if record.levelno >= logging.ERROR else "warning"
            self._post(self.format(record).splitlines()[0], severity)
        except Exception:
            self.handleError(record)

    def install(self) -> None:
        root = logging.getLogger()
        self._set_aside = [handler for handler in root.handlers if _writes_to_terminal(handler)]
        for handler in self._set_aside:
            root.removeHandler(handler)
        root.addHandler(self)

    def uninstall(self) -> None:
        root = logging.getLogger()
        root.removeHandler(self)
        for handler in self._set_aside:
            root.addHandler(handler)
        self._set_aside = []


def _writes_to_terminal(handler: logging.Handler) -> bool:
    stream = getattr(handler, "stream", None)
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except (OSError, ValueError):
        return False
