"""The command bar's history: the lines entered, oldest first, kept across TUI runs (an
invalid line too, as a shell keeps it: it is the one to fix).

One line per command in `<workspace>/.ctree/tui_history`, at most `MAX_ENTRIES` (older ones are
dropped when the file is rewritten); a line equal to the previous one is not repeated. A
history that cannot be read or written is an empty one: it never stops the TUI. No Textual.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

HISTORY_FILE = "tui_history"
MAX_ENTRIES = 500


class CommandHistory:
    """Lines entered in the command bar, and a cursor to walk them with up and down."""

    def __init__(self, path: Path | None, *, max_entries: int = MAX_ENTRIES) -> None:
        self.path = path
        self.max_entries = max_entries
        self.entries: list[str] = self._load()
        self._cursor = len(self.entries)
        self._draft = ""

    def _load(self) -> list[str]:
        if self.path is None:
            return []
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError) as exc:
            log.warning("the command history %s could not be read: %s", self.path, exc)
            return []
        lines = [line for line in text.splitlines() if line.strip()]
        return lines[-self.max_entries:]

    def add(self, line: str) -> None:
        """Remember `line` (persisted at once) and put the cursor after the newest entry."""
        line = " ".join(line.splitlines()).strip()
        if line and (not self.entries or self.entries[-1] != line):
            self.entries.append(line)
            overflow = len(self.entries) > self.max_entries
            del self.entries[:-self.max_entries]
            self._save(line, rewrite=overflow)
        self.reset()

    def _save(self, line: str, *, rewrite: bool) -> None:
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if rewrite:
                temporary = self.path.with_suffix(".tmp")
                temporary.write_text("\n".join(self.entries) + "\n", encoding="utf-8")
                os.replace(temporary, self.path)
            else:
                with self.path.open("a", encoding="utf-8") as file:
                    file.write(line + "\n")
        except OSError as exc:
            log.warning("the command history %s could not be written: %s", self.path, exc)

    def reset(self, draft: str = "") -> None:
        """Start walking from the newest entry; `draft` is what `down` returns to."""
        self._cursor = len(self.entries)
        self._draft = draft

    def previous(self, current: str) -> str | None:
        """The entry before the cursor (None at the oldest)."""
        if self._cursor == len(self.entries):
            self._draft = current
        if self._cursor == 0:
            return None
        self._cursor -= 1
        return self.entries[self._cursor]

    def next(self) -> str | None:
        """The entry after the cursor, the draft past the newest, None if already there."""
        if self._cursor >= len(self.entries):
            return None
        self._cursor += 1
        return self.entries[self._cursor] if self._cursor < len(self.entries) else self._draft
