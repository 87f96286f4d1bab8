"""The names in a workspace's LMDB environment: every sub-database and every `meta` key.

Three sub-databases hold observability data (sessions, their events and status snapshots);
the engine keeps the current tree (`nodes`, `paths`) and the context frames (`frames`,
`heads`, `frame_log`) beside them, with schema versions and summaries in `meta`. Every module
that opens a sub-database or reads a key takes its name from here.
"""

from __future__ import annotations

from typing import Final

MAX_DBS: Final = 32
"""The sub-databases an environment may hold; every opener of the store passes the same."""

OBS_SESSIONS: Final = "obs_sessions"
"""Session id → session record."""
OBS_EVENTS: Final = "obs_events"
"""`session_id:seq` (seq zero-padded to 20 digits) → event."""
OBS_SESSION_META: Final = "obs_session_meta"
"""Session id → next seq and status snapshot."""

NODES: Final = "nodes"
"""Node id → node record of the current tree."""
PATHS: Final = "paths"
"""Workspace-relative path → node id."""
FRAMES: Final = "frames"
"""Frame id → frame (append-only)."""
HEADS: Final = "heads"
"""`node_id NUL frame_type` → frame id of that node version's current frame."""
FRAME_LOG: Final = "frame_log"
"""`path NUL frame_type NUL n` → log entry, newest last."""
META: Final = "meta"
"""The engine's schema versions and summaries, under the keys below."""

OBSERVABILITY_DATABASES: Final = (OBS_SESSIONS, OBS_EVENTS, OBS_SESSION_META)
ENGINE_DATABASES: Final = (NODES, PATHS, FRAMES, HEADS, FRAME_LOG, META)
ALL_DATABASES: Final = OBSERVABILITY_DATABASES + ENGINE_DATABASES

TREE_SCHEMA_VERSION: Final = b"tree.schema_version"
TREE_SUMMARY: Final = b"tree.summary"
"""Root id and counts of the stored tree, as of its last update."""
TREE_LAST_SCAN: Final = b"tree.last_scan"
FRAMES_SCHEMA_VERSION: Final = b"frames.schema_version"
META_KEYS: Final = (TREE_SCHEMA_VERSION, TREE_SUMMARY, TREE_LAST_SCAN, FRAMES_SCHEMA_VERSION)
