"""Sessions: ids, the stored record, the emitting handle, and owner liveness.

A session is one command's ordered event stream. Its record names the owner process (pid,
host, process start time, boot id, PID namespace) so any reader can tell a running session
(`active`) from one whose writer died without `session_ended` (`interrupted`): probed where
the reader sees the owner's pids, judged by the owner's heartbeat elsewhere (`liveness`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

import msgspec

from contextree.errors import EventError
from contextree.progress.event import check_type_name, encode_payload, parse_ts
from contextree.progress.liveness import (
    DEFAULT_LIVENESS,
    Liveness,
    can_probe_owner,
    heartbeat_fresh,
)

if TYPE_CHECKING:
    from contextree.progress.store import EventStore

ACTIVE, COMPLETED, FAILED, INTERRUPTED = "active", "completed", "failed", "interrupted"
ENDED_STATUSES = frozenset({COMPLETED, FAILED})
CANCELLED = "cancelled"
"""The error of a session stopped by Ctrl-C (its status is `failed`), and what the CLI prints."""

HOST = os.uname().nodename
"""This machine's host name (what `socket.gethostname()` returns, without importing `socket`)."""
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
    pid_ns: str | None = None
    """The owner's PID namespace (`pid:[inode]`); None in records of older versions."""
    boot_id: str | None = None
    """The owner's boot id; None in records of older versions."""

    @property
    def has_heartbeat(self) -> bool:
        """Whether the owner writes heartbeats (records of older versions do not)."""
        return self.pid_ns is not None or self.boot_id is not None


class SessionMeta(msgspec.Struct):
    """The `obs_session_meta` value: next sequence and the latest status snapshot."""

    next_seq: int = 1
    status: str = ACTIVE
    last_ts: str | None = None
    event_count: int = 0
    heartbeat_at: str | None = None
    """When the owner last proved it lives (`ts` format); written while the session is open."""


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


def effective_status(
    record: SessionRecord,
    meta: SessionMeta | None = None,
    liveness: Liveness = DEFAULT_LIVENESS,
) -> str:
    """`active` / `completed` / `failed` / `interrupted`, as a reader should show it.

    An unended session whose owner this process can see (same host, boot and PID namespace)
    is probed by pid and start time. Otherwise its heartbeat in `meta` (the record's start
    when there is none yet) decides, with no probe; a record of an older version, which has
    no heartbeat, from another host is assumed alive as before.
    """
    if record.status in ENDED_STATUSES:
        return record.status
    if can_probe_owner(record.host, record.boot_id, record.pid_ns, this_host=HOST):
        alive = record.pid > 0 and _probe_owner(record.pid, record.proc_start)
    elif record.has_heartbeat:
        alive = heartbeat_fresh(last_heartbeat_s(record, meta), liveness)
    else:
        alive = True
    return ACTIVE if alive else INTERRUPTED


def last_heartbeat_s(record: SessionRecord, meta: SessionMeta | None) -> float | None:
    """When the owner last proved it lives: its heartbeat, else the session's start."""
    for stamp in (meta.heartbeat_at if meta is not None else None, record.started_at):
        if stamp:
            try:
                return parse_ts(stamp)
            except ValueError:
                continue
    return None


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
