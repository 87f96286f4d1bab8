"""The one seam through which every engine part reports progress.

An `Emitter` is a progress `Session` or anything with the same `emit`: the engine never knows
whether its events go to the store, to a test's list, or nowhere; `session_id_of` tells which
session (if any) a result such as a frame was made in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from contextree.progress.session import Session


class Emitter(Protocol):
    """Where events go: a progress `Session` or anything with the same `emit`."""

    def emit(self, event_type: str, data: Mapping[str, Any] | None = None, /) -> None: ...


def session_id_of(emitter: Emitter) -> str | None:
    """The id of the session `emitter` writes to, or None when it is not a session."""
    return emitter.session_id if isinstance(emitter, Session) else None
