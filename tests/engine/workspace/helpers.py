"""Helpers for the workspace engine tests: a recording emitter, backdated files, reference scans."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lmdb

from contextree.engine.workspace.config import Config
from contextree.engine.workspace.layout import Workspace
from contextree.engine.workspace.scan import ScanResult, scan_workspace
from contextree.engine.workspace.tree import FILE, TreeStore

OLD = time.time() - 3600  # files written by tests are backdated so scans trust their stat


class RecordingEmitter:
    """Collects `(type, data)` pairs; tests wait on it with a condition, never a sleep."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any], float]] = []
        self._changed = threading.Condition()

    def emit(self, event_type: str, data: Any = None, /) -> None:
        with self._changed:
            self.events.append((event_type, dict(data or {}), time.monotonic()))
            self._changed.notify_all()

    def types(self) -> list[str]:
        with self._changed:
            return [event_type for event_type, _, _ in self.events]

    def of(self, event_type: str) -> list[dict[str, Any]]:
        with self._changed:
            return [data for kind, data, _ in self.events if kind == event_type]

    def wait_for(
        self, predicate: Callable[[RecordingEmitter], bool], timeout: float = 15.0
    ) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"timed out; events so far: {self.types()}")
                self._changed.wait(remaining)


def write(root: Path, relative: str, content: str | bytes = "", *, backdate: bool = True) -> Path:
    """Create `relative` under `root` with `content`, its mtime an hour old by default."""
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    if backdate:
        os.utime(path, (OLD, OLD))
    return path


def scan(
    workspace: Workspace, store: Any, config: Config, **options: Any
) -> tuple[ScanResult, RecordingEmitter]:
    recorder = RecordingEmitter()
    return scan_workspace(workspace, store, recorder, config=config, **options), recorder


def fresh_ids(workspace: Workspace, config: Config, tmp_path: Path) -> dict[str, str]:
    """Path → node id from a forced scan into a brand-new store (the reference result)."""
    location = tmp_path / f"reference-{time.monotonic_ns()}"
    env = lmdb.open(str(location), max_dbs=32, map_size=64 << 20)
    try:
        scan_workspace(workspace, env, RecordingEmitter(), config=config, force=True)
        return {path: record.id for path, record in TreeStore(env).load_records().items()}
    finally:
        env.close()


def stored_ids(store: Any) -> dict[str, str]:
    return {path: record.id for path, record in TreeStore(store).load_records().items()}


def stored_files(store: Any) -> set[str]:
    return {p for p, r in TreeStore(store).load_records().items() if r.type == FILE}
