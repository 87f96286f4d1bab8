"""The one seam through which every engine part reports progress.

An `Emitter` is a progress `Session` or anything with the same `emit`: the engine never knows
whether its events go to the store, to a test's list, or nowhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class Emitter(Protocol):
    """Where events go: a progress `Session` or anything with the same `emit`."""

    def emit(self, event_type: str, data: Mapping[str, Any] | None = None, /) -> None: ...
