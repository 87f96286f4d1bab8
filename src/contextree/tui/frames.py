"""Where the TUI reads a node's generated content (a context frame) from the store.

Frames are stored by the generation engine; until it writes them this hook finds nothing and
the node detail says so. It is the one place the TUI reads frame content, so filling it in
is all the TUI needs once frames exist.
"""

from __future__ import annotations

from contextree.progress.store import EventStore


def load_frame_markdown(store: EventStore, node_id: str | None, frame_id: str | None) -> str | None:
    """The markdown content of frame `frame_id` of node `node_id`, or None if not stored.

    Called from a worker thread (it may read LMDB), never from the UI's event loop.
    """
    if not node_id or not frame_id:
        return None
    return None
