"""The observability core: durable, ordered, replayable sessions of events in LMDB.

    from contextree.progress import ProgressRuntime
    rt = ProgressRuntime.open(store_path)
    with rt.session("my.command", args={}) as s:     # session_started is seq 1
        s.emit("node_generation_started", {"path": "a.py"})
    rt.flush()                                       # everything emitted is durable
    rt.store.list_sessions()                         # newest first, effective status
    rt.store.read_events(session_id, after_seq=0)    # ordered events
    rt.close()
"""

from contextree.progress.event import Event
from contextree.progress.runtime import ProgressRuntime
from contextree.progress.session import Session, SessionRecord
from contextree.progress.store import EventStore

__all__ = ["Event", "EventStore", "ProgressRuntime", "Session", "SessionRecord"]
