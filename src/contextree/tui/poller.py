"""The store poller: notices sessions starting, progressing and ending in any process.

A thread polls LMDB's last transaction id (shared memory, microseconds). When it moved — some
process committed — or every `idle_refresh_s` anyway (an owner may die without committing, and
its session then reads as interrupted), it reads a `StoreSnapshot` and hands the newest one to
the UI: one slot, replaced by newer snapshots, one `wake()` per handover. No Textual here.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from contextree.engine.workspace.layout import Workspace
from contextree.progress import EventStore
from contextree.tui.data import SnapshotReader, StoreSnapshot

log = logging.getLogger(__name__)


class StorePoller:
    """Reads a fresh `StoreSnapshot` whenever the store changes, on a worker thread."""

    def __init__(self, store: EventStore, *, wake: Callable[[], object],
                 workspace: Workspace | None = None, poll_s: float = 0.1,
                 min_refresh_s: float = 0.5, idle_refresh_s: float = 2.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self._wake = wake
        self._poll_s = poll_s
        self._min_refresh_s = min_refresh_s
        self._idle_refresh_s = idle_refresh_s
        self._reader = SnapshotReader(store, workspace=workspace, clock=clock)
        self._lock = threading.Lock()
        self._latest: StoreSnapshot | None = None
        self._error: str | None = None
        self._stop = threading.Event()
        self._refresh_now = threading.Event()
        self._thread = threading.Thread(target=self._run, name="StorePoller", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self._refresh_now.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def refresh(self) -> None:
        """Read a new snapshot now (after a delete, a prune, or `r`)."""
        self._refresh_now.set()

    def take(self) -> tuple[StoreSnapshot | None, str | None]:
        """The newest snapshot and error since the last call (called by the UI)."""
        with self._lock:
            snapshot, error = self._latest, self._error
            self._latest, self._error = None, None
        return snapshot, error

    def _run(self) -> None:
        last_txn = -1
        last_read = 0.0
        while not self._stop.is_set():
            forced = self._refresh_now.is_set()
            self._refresh_now.clear()
            now = time.monotonic()
            try:
                txn = self.store.last_txn_id()
                due = (txn != last_txn and now - last_read >= self._min_refresh_s) \
                    or now - last_read >= self._idle_refresh_s
                if forced or due:
                    last_txn, last_read = txn, now
                    self._publish(self._reader.read(), None)
            except Exception as exc:  # keep polling; the UI shows the error
                log.exception("reading the session list failed")
                last_read = now
                self._publish(None, f"reading the session list failed: {exc}")
            self._refresh_now.wait(self._poll_s)

    def _publish(self, snapshot: StoreSnapshot | None, error: str | None) -> None:
        with self._lock:
            wake = self._latest is None and self._error is None
            if snapshot is not None:
                self._latest = snapshot
            if error is not None:
                self._error = error
        if wake and not self._stop.is_set():
            self._wake()
