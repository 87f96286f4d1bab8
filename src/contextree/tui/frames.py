"""Where the TUI reads a node's generated content (a context frame) from the store.

The session view's node detail knows a completed node's `frame_id` from its events; the
content is the frame the generation engine stored under that id. Read on a worker thread.
"""

from __future__ import annotations

from contextree.engine.generation.frames import FRAMES_DB, FrameStore
from contextree.progress.store import EventStore
from contextree.tui.data import has_database


def load_frame_markdown(store: EventStore, node_id: str | None, frame_id: str | None) -> str | None:
    """The markdown content of frame `frame_id` of node `node_id`, or None if not stored.

    Called from a worker thread (it reads LMDB), never from the UI's event loop.
    """
    if not node_id or not frame_id or not has_database(store, FRAMES_DB):
        return None
    frame = FrameStore(store).get(frame_id)
    if frame is None or frame.node_id != node_id:
        return None
    return frame.content
