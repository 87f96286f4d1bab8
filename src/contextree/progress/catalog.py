"""The event catalog: every event type the project emits, and the fields each always carries.

`EventType` names each catalogued type once; emit sites and the reducer use its members, so a
misspelt name fails type checking and the catalog test instead of silently making a new type.
Names are append-only and required fields never change (SPEC §4). The public `emit` still
accepts any snake_case name: embedders define their own types beside these.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any


class EventType(StrEnum):
    """Every catalogued event type; a member is the type's name (a `str`)."""

    # Session
    SESSION_STARTED = "session_started"
    SESSION_ENDED = "session_ended"
    COMMAND_SUMMARY = "command_summary"
    INGEST_FAILED = "ingest_failed"
    # Scanner
    SCAN_STARTED = "scan_started"
    SCAN_PROGRESS = "scan_progress"
    SCAN_COMPLETED = "scan_completed"
    # Watcher
    WATCH_STARTED = "watch_started"
    FILE_CHANGED = "file_changed"
    BATCH_PROCESSED = "batch_processed"
    WATCH_STOPPED = "watch_stopped"
    # Context generate
    PLAN_CONSTRUCTED = "plan_constructed"
    DESCENDANT_CHECK_STARTED = "descendant_check_started"
    DESCENDANT_CHECK_PASSED = "descendant_check_passed"
    DESCENDANT_CHECK_FAILED = "descendant_check_failed"
    NODE_SKIPPED = "node_skipped"
    # Orchestrator
    GENERATION_STARTED = "generation_started"
    LEVEL_STARTED = "level_started"
    NODE_GENERATION_STARTED = "node_generation_started"
    NODE_GENERATION_COMPLETED = "node_generation_completed"
    NODE_GENERATION_FAILED = "node_generation_failed"
    LEVEL_COMPLETED = "level_completed"
    GENERATION_COMPLETED = "generation_completed"
    GENERATION_FAILED = "generation_failed"
    # Queue
    REQUEST_ENQUEUED = "request_enqueued"
    REQUEST_DEDUPLICATED = "request_deduplicated"
    REQUEST_PROCESSING = "request_processing"
    QUEUE_STATS = "queue_stats"
    # Provider
    PROVIDER_REQUEST_SENT = "provider_request_sent"
    PROVIDER_RESPONSE_RECEIVED = "provider_response_received"
    PROVIDER_REQUEST_FAILED = "provider_request_failed"
    PROVIDER_REQUEST_RETRYING = "provider_request_retrying"
    # Read
    CONTEXT_READ_SUMMARY = "context_read_summary"


# Every event type, with the data fields it always carries (SPEC §4). New fields are optional.
EVENT_CATALOG: Mapping[str, tuple[str, ...]] = {
    # Session
    EventType.SESSION_STARTED: ("command", "args", "workspace", "pid", "version"),
    EventType.SESSION_ENDED: ("status", "error", "duration_ms"),
    EventType.COMMAND_SUMMARY: ("command", "ok", "duration_ms"),
    EventType.INGEST_FAILED: ("error", "lost_count"),
    # Scanner
    EventType.SCAN_STARTED: ("root", "force"),
    EventType.SCAN_PROGRESS: ("node_count", "file_count", "dir_count", "bytes_hashed"),
    EventType.SCAN_COMPLETED: (
        "node_count", "file_count", "dir_count", "bytes_hashed", "files_rehashed",
        "root_id", "changed", "duration_ms",
    ),
    # Watcher
    EventType.WATCH_STARTED: ("root", "debounce_ms", "generate"),
    EventType.FILE_CHANGED: ("path", "change"),
    EventType.BATCH_PROCESSED: ("change_count", "nodes_updated", "root_id", "duration_ms"),
    EventType.WATCH_STOPPED: ("reason",),
    # Context generate
    EventType.PLAN_CONSTRUCTED: (
        "plan_id", "node_id", "path", "agent_id", "provider_name", "model", "frame_type",
        "force", "recursive", "total_nodes", "total_levels", "skipped_count",
    ),
    EventType.DESCENDANT_CHECK_STARTED: ("node_id", "path", "frame_type"),
    EventType.DESCENDANT_CHECK_PASSED: ("node_id", "path", "frame_type"),
    EventType.DESCENDANT_CHECK_FAILED: (
        "node_id", "path", "frame_type", "missing_count", "missing_paths",
    ),
    EventType.NODE_SKIPPED: ("node_id", "path", "agent_id", "frame_type", "reason"),
    # Orchestrator
    EventType.GENERATION_STARTED: ("plan_id", "path", "total_levels", "total_nodes"),
    EventType.LEVEL_STARTED: ("plan_id", "level_index", "total_levels", "node_count"),
    EventType.NODE_GENERATION_STARTED: (
        "plan_id", "level_index", "node_id", "path", "agent_id", "provider_name", "frame_type",
    ),
    EventType.NODE_GENERATION_COMPLETED: (
        "plan_id", "level_index", "node_id", "path", "agent_id", "provider_name", "frame_type",
        "frame_id", "duration_ms",
    ),
    EventType.NODE_GENERATION_FAILED: (
        "plan_id", "level_index", "node_id", "path", "agent_id", "provider_name", "frame_type",
        "error", "duration_ms",
    ),
    EventType.LEVEL_COMPLETED: (
        "plan_id", "level_index", "completed_count", "failed_count", "node_count", "duration_ms",
    ),
    EventType.GENERATION_COMPLETED: (
        "plan_id", "total_generated", "total_failed", "total_skipped", "duration_ms",
    ),
    EventType.GENERATION_FAILED: (
        "plan_id", "reason", "failed_level_index", "total_generated", "total_failed",
        "duration_ms",
    ),
    # Queue
    EventType.REQUEST_ENQUEUED: (
        "request_id", "node_id", "path", "agent_id", "frame_type", "provider_name", "priority",
    ),
    EventType.REQUEST_DEDUPLICATED: ("request_id", "node_id", "path", "reason"),
    EventType.REQUEST_PROCESSING: ("request_id", "node_id", "path", "attempt", "queue_wait_ms"),
    EventType.QUEUE_STATS: (
        "pending", "in_flight", "completed", "failed", "deduplicated", "retrying",
    ),
    # Provider
    EventType.PROVIDER_REQUEST_SENT: (
        "request_id", "node_id", "path", "provider_name", "provider_type", "model", "attempt",
        "prompt_chars",
    ),
    EventType.PROVIDER_RESPONSE_RECEIVED: (
        "request_id", "node_id", "path", "provider_name", "provider_type", "model", "attempt",
        "duration_ms", "input_tokens", "output_tokens", "response_chars",
    ),
    EventType.PROVIDER_REQUEST_FAILED: (
        "request_id", "node_id", "path", "provider_name", "provider_type", "model", "attempt",
        "duration_ms", "error", "error_kind", "status_code", "retryable",
    ),
    EventType.PROVIDER_REQUEST_RETRYING: (
        "request_id", "node_id", "path", "provider_name", "provider_type", "model", "attempt",
        "delay_ms", "error",
    ),
    # Read
    EventType.CONTEXT_READ_SUMMARY: ("node_id", "path", "frame_count"),
}


def missing_fields(event_type: str, data: Mapping[str, Any]) -> list[str]:
    """The catalog's required fields absent from `data` (empty for unknown types)."""
    return [name for name in EVENT_CATALOG.get(event_type, ()) if name not in data]
