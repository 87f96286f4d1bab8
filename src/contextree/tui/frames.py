"""Where the TUI reads a node's generated content (a context frame) from the store.

The session view's node detail knows a completed node's `frame_id` from its events; the
content is the frame the generation engine stored under that id. Read on a worker thread.
"""

from __future__ import annotations

from contextree.engine.generation.frames import FrameStore
from contextree.engine.store import EngineStore


def load_frame_markdown(
    store: EngineStore, node_id: str | None, frame_id: str | None
) -> str | None:
    """The markdown content of frame `frame_id` of node `node_id`, or None if not stored.

    Called from a worker thread (it reads LMDB), never from the UI's event loop.
    """
    frames = FrameStore.open_existing(store) if node_id and frame_id else None
    if frames is None or frame_id is None:
        return None
    frame = frames.get(frame_id)
    if frame is None or frame.node_id != node_id:
        return None
    return frame.content
