"""Helpers for the generation tests: a catalog-checking emitter, a fake clock, a scripted
provider, and small workspaces on disk."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from contextree.engine.generation.queue import ProviderHandle
from contextree.engine.providers.base import (
    GenerationRequest,
    GenerationResponse,
    ProviderConfig,
)
from contextree.errors import ProviderError
from contextree.progress.catalog import EVENT_CATALOG, missing_fields

OLD = time.time() - 3600  # backdated files: scans trust their stat

GENERATION_EVENT_TYPES = frozenset({
    "plan_constructed", "descendant_check_started", "descendant_check_passed",
    "descendant_check_failed", "node_skipped", "generation_started", "level_started",
    "node_generation_started", "node_generation_completed", "node_generation_failed",
    "level_completed", "generation_completed", "generation_failed", "request_enqueued",
    "request_deduplicated", "request_processing", "queue_stats", "provider_request_sent",
    "provider_response_received", "provider_request_failed", "provider_request_retrying",
})


class CheckedEmitter:
    """Records `(type, data)` and fails at once on an event missing a SPEC §4 field."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()

    def emit(self, event_type: str, data: Any = None, /) -> None:
        payload = dict(data or {})
        assert event_type in EVENT_CATALOG, f"{event_type} is not in the catalog"
        missing = missing_fields(event_type, payload)
        assert not missing, f"{event_type} lacks {missing}: {payload}"
        with self._lock:
            self.events.append((event_type, payload))

    def types(self) -> list[str]:
        with self._lock:
            return [event_type for event_type, _ in self.events]

    def of(self, event_type: str) -> list[dict[str, Any]]:
        with self._lock:
            return [data for kind, data in self.events if kind == event_type]

    def paths(self, event_type: str, **where: Any) -> set[str]:
        return {
            data["path"] for data in self.of(event_type)
            if all(data.get(key) == value for key, value in where.items())
        }


class FakeClock:
    """Time that only moves when the queue sleeps; every sleep is recorded."""

    def __init__(self) -> None:
        self.time = 1000.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.time

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.time += seconds
        await asyncio.sleep(0)


Outcome = GenerationResponse | ProviderError


class ScriptedProvider:
    """An in-process provider: per-path scripted outcomes, an optional gate, concurrency
    tracking. Unscripted requests succeed with `frame of <path>`."""

    type = "scripted"

    def __init__(self, name: str = "scripted", model: str = "scripted-1") -> None:
        self.name = name
        self.model = model
        self.script: dict[str, list[Outcome]] = {}
        self.gate: asyncio.Event | None = None
        self.calls: list[str] = []
        self.active = 0
        self.max_active = 0
        self.closed = False

    def fail(self, path: str, *errors: ProviderError) -> None:
        self.script.setdefault(path, []).extend(errors)

    async def generate(self, request: GenerationRequest) -> GenerationResponse:
        self.calls.append(request.path)
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            if self.gate is not None:
                await self.gate.wait()
            else:
                await asyncio.sleep(0)
            script = self.script.get(request.path)
            outcome = script.pop(0) if script else None
            if isinstance(outcome, ProviderError):
                raise outcome
            return outcome or GenerationResponse(f"frame of {request.path}", self.model, 3, 2)
        finally:
            self.active -= 1

    async def aclose(self) -> None:
        self.closed = True


def scripted_handle(provider: ScriptedProvider, **limits: Any) -> ProviderHandle:
    config = ProviderConfig(name=provider.name, type="local", model=provider.model, **limits)
    return ProviderHandle(config, provider)


def transient(kind: str = "server", status: int | None = 503,
              retry_after_s: float | None = None) -> ProviderError:
    return ProviderError(f"fake {kind} failure", kind=kind, status_code=status, retryable=True,
                         retry_after_s=retry_after_s)


def permanent(kind: str = "auth", status: int | None = 401) -> ProviderError:
    return ProviderError(f"fake {kind} failure", kind=kind, status_code=status, retryable=False)


def write_tree(root: Path, files: dict[str, str | bytes]) -> None:
    """Write `files` (path → content) under `root`, backdated."""
    for path, content in files.items():
        full = root / path
        full.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            full.write_bytes(content)
        else:
            full.write_text(content, encoding="utf-8")
        os.utime(full, (OLD, OLD))


def edit(root: Path, path: str, content: str) -> None:
    """Rewrite one file with a distinct, backdated mtime (so a scan notices it)."""
    full = root / path
    full.write_text(content, encoding="utf-8")
    stamp = OLD + 60
    os.utime(full, (stamp, stamp))


SAMPLE_TREE: dict[str, str | bytes] = {
    "README.md": "# Sample\n\nA sample project for tests.\n",
    "pkg/__init__.py": '"""The sample package."""\n',
    "pkg/core.py": '"""Core logic."""\n\n\ndef add(a: int, b: int) -> int:\n    return a + b\n',
    "pkg/util/strings.py": '"""String helpers."""\n\n\ndef shout(text):\n    return text.upper()\n',
    "pkg/util/numbers.py": '"""Number helpers."""\n\nPI = 3.14\n',
    "docs/guide.md": "# Guide\n\nHow to use it.\n",
    "assets/logo.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
}


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        time.sleep(0.005)
