"""Logging for a command: the level `--verbose` chooses, and credentials kept out of every line.

Set up only when a command runs (not for `--help`), so start-up does not pay for it.
"""

from __future__ import annotations

import logging


def configure_logging(verbose: bool) -> None:
    """Debug logs with `--verbose`, warnings otherwise; every handler redacts credentials."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactCredentials) for f in handler.filters):
            handler.addFilter(RedactCredentials())


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
