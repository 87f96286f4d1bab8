"""The one exception tree of contextree.

Every error a user can cause or meet is a `ContextreeError` whose message says what went
wrong and how to fix it, in one line. The CLI prints that line and exits 1; the TUI shows it
with `notify(severity="error")`. Anything else reaching the edge is a bug.

    ContextreeError
    ├── WorkspaceError          workspace missing, path outside it, not initialised
    ├── ConfigError             malformed or invalid config.toml (names file, line, problem)
    ├── StoreError              the LMDB store cannot be opened, read or written
    │   ├── StoreNotFoundError  no store where one was expected
    │   └── IngestError         a commit failed; the session was marked failed
    ├── SessionNotFoundError    no session matches an id, a prefix or `last`
    ├── SessionStateError       an operation the session's status forbids (delete an active one)
    ├── EventError              an event that cannot be emitted (bad type, not JSON, too large)
    ├── UsageError              a bad argument value (duration, number, path)
    ├── ProviderError           an LLM provider failed (kind, status code, retryable)
    ├── GenerationError         context generation failed for one or more nodes
    ├── ExportError             a tracing backend did not take the exported spans
    └── BundleError             a session bundle cannot be imported (malformed, gap, exists)
"""

from __future__ import annotations


class ContextreeError(Exception):
    """Base of every error contextree reports to a user."""


class WorkspaceError(ContextreeError):
    """The workspace is missing, or a path lies outside it."""


class ConfigError(ContextreeError):
    """A configuration file is malformed or invalid."""


class StoreError(ContextreeError):
    """The store cannot be opened, read or written."""


class StoreNotFoundError(StoreError):
    """No store exists where one was expected."""


StoreMissingError = StoreNotFoundError
"""The former name of `StoreNotFoundError`."""


class IngestError(StoreError):
    """Committing events failed; the affected sessions were marked failed."""


class SessionNotFoundError(ContextreeError):
    """No session matches the given id, prefix or `last`.

    `reason` says which: `NO_SESSIONS` (the store has none yet), `NO_MATCH` or `AMBIGUOUS`
    (a prefix matching several), so an edge can add the right next step.
    """

    NO_SESSIONS = "no_sessions"
    NO_MATCH = "no_match"
    AMBIGUOUS = "ambiguous"

    def __init__(self, message: str, *, reason: str = NO_MATCH) -> None:
        super().__init__(message)
        self.reason = reason


class SessionStateError(ContextreeError):
    """The session's status forbids the operation."""


class EventError(ContextreeError):
    """An event cannot be emitted: bad type name, payload not JSON, or too large."""


class UsageError(ContextreeError):
    """A command-line or API argument has a bad value."""


class ProviderError(ContextreeError):
    """An LLM provider request failed.

    `kind` is one of timeout, connection, rate_limit, auth, not_found, bad_request, server,
    other; `retryable` says whether the queue may try again; `retry_after_s` carries a
    server's Retry-After hint when it gave one.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: str = "other",
        status_code: int | None = None,
        retryable: bool = False,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.status_code = status_code
        self.retryable = retryable
        self.retry_after_s = retry_after_s


class GenerationError(ContextreeError):
    """Context generation failed for one or more nodes."""


class ExportError(ContextreeError):
    """A tracing backend (an OTLP endpoint) did not take the exported spans."""


class BundleError(ContextreeError):
    """A session bundle cannot be imported: a malformed line, a gap in seq, a session that
    exists already."""
