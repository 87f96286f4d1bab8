"""The progress runtime: one store, one bus and one ingestor thread for a process.

`ProgressRuntime.open(path)` is the entry point of the observability core (SPEC §5). It
starts sessions, whose handles emit onto the bus; `flush()` waits until everything emitted so
far is durable; `close()` flushes and stops the ingestor.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
import weakref
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import msgspec

from contextree import __version__
from contextree.errors import IngestError, StoreError
from contextree.progress.bus import EndSession, EventBus, FlushRequest, StartSession, StopIngestor
from contextree.progress.event import (
    check_text,
    encode_payload,
    format_ts,
    without_surrogates,
)
from contextree.progress.ingestor import Ingestor
from contextree.progress.liveness import BOOT_ID, HEARTBEAT_INTERVAL_S, PID_NAMESPACE
from contextree.progress.session import (
    HOST,
    Session,
    SessionRecord,
    new_session_id,
    process_start_time,
)
from contextree.progress.store import DEFAULT_MAP_SIZE, EventStore

_open_runtimes: weakref.WeakSet[ProgressRuntime] = weakref.WeakSet()


class ProgressRuntime:
    """Owns the store, the bus and the ingestor of this process."""

    def __init__(
        self,
        store: EventStore,
        *,
        bus_capacity_bytes: int | None = None,
        heartbeat_interval_s: float = HEARTBEAT_INTERVAL_S,
    ) -> None:
        self.store = store
        self.bus = EventBus() if bus_capacity_bytes is None else EventBus(bus_capacity_bytes)
        self.ingestor = Ingestor(store, self.bus, heartbeat_interval_s=heartbeat_interval_s)
        self.ingestor.start()
        self._closed = False
        self._pid = os.getpid()
        self._proc_start = process_start_time()
        self._lock = threading.Lock()
        _open_runtimes.add(self)

    @classmethod
    def open(
        cls, store_path: str | Path, *, create: bool = True, map_size: int = DEFAULT_MAP_SIZE
    ) -> ProgressRuntime:
        """Open the store at `store_path` (created if missing) and start the ingestor."""
        return cls(EventStore.open(store_path, create=create, map_size=map_size))

    def session(
        self,
        command: str,
        args: Mapping[str, Any] | None = None,
        *,
        workspace: str | Path | None = None,
    ) -> Session:
        """Start a session: its record and `session_started` (seq 1) are durable on return."""
        if self._closed:
            raise StoreError("the progress runtime is closed — open a new one")
        started = time.time()
        session_id = new_session_id()
        check_text(command, "the command name")
        workspace_text = without_surrogates(str(workspace)) if workspace is not None else None
        payload = encode_payload(
            {"command": command, "args": args or {}, "workspace": workspace_text,
             "pid": self._pid, "version": __version__}
        )
        # the record holds the args exactly as the payload (checked, surrogates replaced)
        stored_args = dict(msgspec.json.decode(payload)["args"])
        record = SessionRecord(
            session_id=session_id, command=command, args=stored_args, workspace=workspace_text,
            pid=self._pid, host=HOST, proc_start=self._proc_start,
            started_at=format_ts(started), pid_ns=PID_NAMESPACE, boot_id=BOOT_ID,
        )
        put = self.bus.put
        put(StartSession(record, payload, started))
        session = Session(session_id, command, put, self._end_session, self.store)
        self._raise_own_failure(session_id)
        return session

    def _end_session(self, session: Session, status: str, error: str | None) -> None:
        duration_ms = int((time.monotonic() - session.started_monotonic) * 1000)
        payload = encode_payload({"status": status, "error": error, "duration_ms": duration_ms})
        self.bus.put(EndSession(session.session_id, status, error, payload, time.time()))
        self._raise_own_failure(session.session_id)

    def _raise_own_failure(self, session_id: str) -> None:
        """Wait until everything emitted is stored; raise only if `session_id` failed."""
        self._wait_until_stored(None)
        failure = self.ingestor.failure_of(session_id)
        if failure is not None:
            raise IngestError(str(failure))

    def flush(self, timeout: float | None = None) -> None:
        """Block until every event emitted so far is durable; raise `IngestError` if a commit
        failed since the last flush (each failure is reported once: it never poisons later
        sessions; the failed session's own end reports it again)."""
        self._wait_until_stored(timeout)
        failure = self.ingestor.take_failure()
        if failure is not None:
            raise IngestError(str(failure))

    def _wait_until_stored(self, timeout: float | None) -> None:
        if not self.ingestor.is_alive():
            failure = self.ingestor.failure
            if failure is not None:
                raise IngestError(str(failure))
            raise StoreError("the event ingestor has stopped — reopen the progress runtime")
        request = FlushRequest()
        self.bus.put(request)
        if not request.done.wait(timeout):
            raise StoreError(f"events were not stored within {timeout} s — is the disk stalled?")

    def close(self) -> None:
        """Flush, stop the ingestor and close the store. Safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if self.ingestor.is_alive():
            self.bus.put(StopIngestor())
            self.ingestor.join()
        self.store.close()

    def __enter__(self) -> ProgressRuntime:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


@atexit.register
def _close_open_runtimes() -> None:
    for runtime in list(_open_runtimes):
        if runtime._pid == os.getpid():
            runtime.close()
