"""Sessions: ids, the stored record, the emitting handle, and owner liveness.

A session is one command's ordered event stream. Its record names the owner process (pid,
host, process start time) so any reader can tell a running session (`active`) from one whose
writer died without `session_ended` (`interrupted`): the owner is gone, or its pid now belongs
to a process that started at another time. A live session is never reported interrupted.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

import msgspec

from contextree.errors import EventError
from contextree.progress.event import check_type_name, encode_payload, parse_ts

if TYPE_CHECKING:
    from contextree.progress.store import EventStore

ACTIVE, COMPLETED, FAILED, INTERRUPTED = "active", "completed", "failed", "interrupted"
ENDED_STATUSES = frozenset({COMPLETED, FAILED})
CANCELLED = "cancelled"
"""The error of a session stopped by Ctrl-C (its status is `failed`), and what the CLI prints."""

HOST = socket.gethostname()
_START_TIME_TOLERANCE_S = 0.05


class SessionRecord(msgspec.Struct):
    """The `obs_sessions` value. `status` as stored; `effective_status()` is what readers show."""

    session_id: str
    command: str
    args: dict[str, Any] = msgspec.field(default_factory=dict)
    workspace: str | None = None
    pid: int = 0
    host: str = ""
    proc_start: float = 0.0
    started_at: str = ""
    ended_at: str | None = None
    status: str = ACTIVE
    error: str | None = None


class SessionMeta(msgspec.Struct):
    """The `obs_session_meta` value: next sequence and the latest status snapshot."""

    next_seq: int = 1
    status: str = ACTIVE
    last_ts: str | None = None
    event_count: int = 0


def new_session_id() -> str:
    """A fresh ULID: unique across processes, sortable by creation time."""
    from ulid import ULID  # loaded by writers only: readers never create ids

    return str(ULID())


def process_start_time(pid: int | None = None) -> float:
    """The start time of a process (this one by default), as psutil reports it."""
    import psutil  # loaded only where a process is inspected: start-up stays fast

    return float(psutil.Process(pid if pid is not None else os.getpid()).create_time())


def owner_alive(pid: int, host: str, proc_start: float) -> bool:
    """Whether the process that owns a session still runs.

    On another host we cannot tell, so the owner is assumed alive (never call a live
    session interrupted). A zombie counts as dead; a pid reused by a process that started
    at another time counts as dead. Only unended sessions are probed (tens of µs each).
    """
    if host and host != HOST:
        return True
    if pid <= 0:
        return False
    return _probe_owner(pid, proc_start)


def _probe_owner(pid: int, proc_start: float) -> bool:
    import psutil  # loaded only when an unended session's owner is probed

    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        started = float(process.create_time())
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return False
    except psutil.AccessDenied:
        return True
    return abs(started - proc_start) <= _START_TIME_TOLERANCE_S


def effective_status(record: SessionRecord) -> str:
    """`active` / `completed` / `failed` / `interrupted`, as a reader should show it."""
    if record.status in ENDED_STATUSES:
        return record.status
    if owner_alive(record.pid, record.host, record.proc_start):
        return ACTIVE
    return INTERRUPTED


EndCallback = Callable[["Session", str, "str | None"], None]


class Session:
    """The handle a command emits through. Use as a context manager: an exception ends the
    session `failed` with the error (Ctrl-C: error `cancelled`), a normal exit `completed`.
    `store` is the session's store, for commands that keep engine data beside the events."""

    __slots__ = (
        "_end_callback", "_put", "command", "ended", "error", "session_id", "started_monotonic",
        "status", "store",
    )

    def __init__(
        self,
        session_id: str,
        command: str,
        put: Callable[[tuple[str, str, bytes, float]], None],
        end_callback: EndCallback,
        store: EventStore,
    ) -> None:
        self.session_id = session_id
        self.store = store
        self.command = command
        self._put = put
        self._end_callback = end_callback
        self.started_monotonic = time.monotonic()
        self.ended = False
        self.status = ACTIVE
        self.error: str | None = None

    def emit(self, event_type: str, data: Mapping[str, Any] | None = None) -> None:
        """Queue one event; stamps `ts` now, never blocks on I/O. Thread-safe."""
        if self.ended:
            raise EventError(f"session {self.session_id} has ended — start a new session to emit")
        check_type_name(event_type)
        self._put((self.session_id, event_type, encode_payload(data), time.time()))

    def end(self, status: str = COMPLETED, error: str | None = None) -> None:
        """Commit `session_ended` as the last event and wait until it is durable."""
        if self.ended:
            return
        if status not in ENDED_STATUSES:
            raise EventError(f"a session ends completed or failed, not {status!r}")
        self.ended = True
        self.status = status
        self.error = error
        self._end_callback(self, status, error)

    def __enter__(self) -> Session:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.ended:
            return
        if exc is None:
            self.end(COMPLETED)
        else:
            self.end(FAILED, failure_message(exc))


def failure_message(exc: BaseException) -> str:
    """The error a session that ended with `exc` records: `cancelled` for Ctrl-C."""
    if isinstance(exc, KeyboardInterrupt):
        return CANCELLED
    return str(exc) or type(exc).__name__


def duration_ms(record: SessionRecord, now_s: float | None = None) -> int | None:
    """Ended: ended − started. Active: elapsed so far. Interrupted: unknown (None)."""
    try:
        started = parse_ts(record.started_at)
        if record.ended_at:
            return int((parse_ts(record.ended_at) - started) * 1000)
    except ValueError:
        return None
    if record.status == ACTIVE:
        return int(((now_s or time.time()) - started) * 1000)
    return None
