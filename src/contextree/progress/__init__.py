"""The observability core: durable, ordered, replayable sessions of events in LMDB.

    from contextree.progress import ProgressRuntime
    rt = ProgressRuntime.open(store_path)
    with rt.session("my.command", args={}) as s:     # session_started is seq 1
        s.emit("node_generation_started", {"path": "a.py"})
    rt.flush()                                       # everything emitted is durable
    rt.store.list_sessions()                         # newest first, effective status
    rt.store.read_events(session_id, after_seq=0)    # ordered events
    rt.close()

The names below load on first use, so a reader that needs only the store does not pay for
the runtime's ingestor thread machinery or process inspection.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from contextree.progress.event import Event
    from contextree.progress.runtime import ProgressRuntime
    from contextree.progress.session import Session, SessionRecord
    from contextree.progress.store import EventStore

__all__ = ["Event", "EventStore", "ProgressRuntime", "Session", "SessionRecord"]

_HOMES = {
    "Event": "contextree.progress.event",
    "EventStore": "contextree.progress.store",
    "ProgressRuntime": "contextree.progress.runtime",
    "Session": "contextree.progress.session",
    "SessionRecord": "contextree.progress.session",
}


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value
    return value
