"""Logging for a command: the level `--verbose` chooses, and credentials kept out of every line.

Set up only when a command runs (not for `--help`), so start-up does not pay for it.
"""

from __future__ import annotations

import logging

REMEMBERED_WARNINGS = 1024


def configure_logging(verbose: bool) -> None:
    """Debug logs with `--verbose`, warnings otherwise; every handler redacts credentials."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactCredentials) for f in handler.filters):
            handler.addFilter(RedactCredentials())
        if not any(isinstance(f, OncePerMessage) for f in handler.filters):
            handler.addFilter(OncePerMessage())


class OncePerMessage(logging.Filter):
    """Lets each distinct warning through once per process: a damaged record met by two
    readers of one command is one line on stderr, not two."""

    def __init__(self) -> None:
        super().__init__()
        self._seen: set[tuple[str, str]] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        key = (record.name, record.getMessage())
        if key in self._seen:
            return False
        if len(self._seen) >= REMEMBERED_WARNINGS:  # a long watch: forget, stay bounded
            self._seen.clear()
        self._seen.add(key)
        return True


class RedactCredentials(logging.Filter):
    """Keeps credentials out of the logs, whoever logs them: libraries log request URLs
    (httpx: `HTTP Request: POST http://user:password@host/…`) and may log headers. A URL's
    password, Bearer and Basic credentials and every registered API key are replaced."""

    def filter(self, record: logging.LogRecord) -> bool:
        from contextree.secrets import redact_registered, scrub_text

        message = record.getMessage()
        scrubbed = redact_registered(scrub_text(message))
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        return True
