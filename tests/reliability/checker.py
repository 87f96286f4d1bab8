"""The invariant checker of the reliability matrix.

`check_store(path)` opens a store the way any reader would and verifies, for every session:
events decode and name their own session and seq; seq runs 1..n with no gap or duplicate;
`session_started` is seq 1; the meta snapshot agrees with the events (a partial batch would
break this, since events and meta commit in one transaction); an ended record ends with
`session_ended` (or `ingest_failed`) as its last event. Events and meta are read in one
transaction, so the checker may run beside live writers.

`check_engine(path)` does the same for the engine's data: the Merkle tree (`nodes`, `paths`,
`meta`) and the frames (`frames`, `heads`, `frame_log`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from contextree.engine.generation.frames import Frame, LogEntry, compute_frame_id
from contextree.engine.workspace.tree import (
    FILE,
    ROOT,
    NodeRecord,
    directory_node_id,
    file_node_id,
    parent_path,
)
from contextree.progress import EventStore
from contextree.progress.event import decode_event_or_none, session_prefix, split_event_key
from contextree.progress.schema import TREE_SUMMARY
from contextree.progress.session import SessionMeta


@dataclass
class StoreReport:
    sessions: int = 0
    events: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)


def check_store(path: Path, only: set[str] | None = None) -> StoreReport:
    report = StoreReport()
    store = EventStore.open(path, create=False)
    try:
        for record in store.list_sessions():
            if only is not None and record.session_id not in only:
                continue
            report.sessions += 1
            report.by_status[record.status] = report.by_status.get(record.status, 0) + 1
            report.violations.extend(_check_session(store, record.session_id, record.ended_at,
                                                    report))
    finally:
        store.close()
    return report


def _check_session(store: EventStore, sid: str, ended_at: str | None,
                   report: StoreReport) -> list[str]:
    problems: list[str] = []
    pairs, meta = _events_and_meta(store, sid)
    report.events += len(pairs)
    types: list[str] = []
    for expected, (key, raw) in enumerate(pairs, start=1):
        key_sid, seq = split_event_key(key)
        event = decode_event_or_none(raw, key)
        if event is None:
            problems.append(f"{sid}: undecodable event at seq {seq}")
            continue
        if seq != expected:
            problems.append(f"{sid}: seq {seq} where {expected} was expected (gap or duplicate)")
            break
        if event.seq != seq or event.session != sid or key_sid != sid:
            problems.append(
                f"{sid}: event at key seq {seq} says session/seq {event.session}/{event.seq}"
            )
        types.append(event.type)
    if types and types[0] != "session_started":
        problems.append(f"{sid}: first event is {types[0]}, not session_started")
    if meta is None:
        problems.append(f"{sid}: no meta")
    elif meta.next_seq != len(pairs) + 1 or meta.event_count != len(pairs):
        problems.append(f"{sid}: meta next_seq={meta.next_seq} event_count={meta.event_count} "
                        f"but {len(pairs)} events are stored (partial batch?)")
    if ended_at is not None and types and types[-1] not in ("session_ended", "ingest_failed"):
        problems.append(f"{sid}: ended record but last event is {types[-1]}")
    return problems


def _events_and_meta(store: EventStore, sid: str) -> tuple[list[tuple[bytes, bytes]],
                                                           SessionMeta | None]:
    """A session's stored events and meta, read in ONE transaction, so a writer committing
    at the same time cannot make them disagree."""
    prefix = session_prefix(sid)
    pairs: list[tuple[bytes, bytes]] = []
    with store.read() as txn:
        cursor = txn.cursor(db=store.events_db)
        if cursor.set_range(prefix):
            for key, value in cursor.iternext():
                if not bytes(key).startswith(prefix):
                    break
                pairs.append((bytes(key), bytes(value)))
        raw_meta = txn.get(sid.encode("ascii"), db=store.meta_db)
    if raw_meta is None:
        return pairs, None
    try:
        return pairs, msgspec.json.decode(raw_meta, type=SessionMeta)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return pairs, None


# --- engine data --------------------------------------------------------------------------


@dataclass
class EngineReport:
    """What `check_engine` found in the tree and frame sub-databases."""

    nodes: int = 0
    root_id: str | None = None
    frames: int = 0
    heads: int = 0
    log_entries: int = 0
    node_ids: set[str] = field(default_factory=set)
    frame_ids: set[str] = field(default_factory=set)
    head_keys: set[tuple[str, str]] = field(default_factory=set)
    violations: list[str] = field(default_factory=list)


def check_engine(path: Path) -> EngineReport:
    """Verify the engine's data the way `check_store` verifies sessions.

    Tree: every node decodes and its id recomputes from its path and content hash (a file)
    or its children (a directory); `paths` and `nodes` map one to one; every node hangs from
    the root; `tree.summary` names the stored root and count (it commits with the tree).
    Frames: every frame decodes and its id recomputes; every head names a stored frame of that
    node and frame type; every history entry names a stored frame of its path, numbered 1..n.
    """
    report = EngineReport()
    store = EventStore.open(path, create=False)
    try:
        names = sub_database_names(store)
        handles = {name: store.open_db(name) for name in _ENGINE_DBS if name in names}
        with store.read() as txn:  # one snapshot of the whole engine data
            tables = {name: {bytes(key): bytes(value) for key, value in txn.cursor(db=handle)}
                      for name, handle in handles.items()}
    finally:
        store.close()
    _check_tree(tables, report)
    _check_frames(tables, report)
    return report


_ENGINE_DBS = ("nodes", "paths", "meta", "frames", "heads", "frame_log")


def sub_database_names(store: EventStore) -> set[str]:
    """The names of every named sub-database in the environment (the main DB's keys)."""
    with store.read() as txn:
        return {bytes(key).decode("utf-8", "replace")
                for key in txn.cursor().iternext(keys=True, values=False)}


def _check_tree(tables: dict[str, dict[bytes, bytes]], report: EngineReport) -> None:
    problems = report.violations
    nodes: dict[str, NodeRecord] = {}
    for key, raw in tables.get("nodes", {}).items():
        try:
            record = msgspec.json.decode(raw, type=NodeRecord)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            problems.append(f"node {key!r} does not decode: {exc}")
            continue
        if key.decode() != record.id:
            problems.append(f"node stored under {key!r} has id {record.id}")
        nodes[record.id] = record
    report.nodes = len(nodes)
    report.node_ids = set(nodes)
    paths = {key.decode(): value.decode() for key, value in tables.get("paths", {}).items()}
    by_path = {record.path: record for record in nodes.values()}
    if set(paths) != set(by_path):
        problems.append(f"paths and nodes disagree: {sorted(set(paths) ^ set(by_path))[:5]}")
    for node_path, node_id in paths.items():
        if node_id not in nodes or nodes[node_id].path != node_path:
            problems.append(f"path {node_path} names node {node_id[:12]}, not stored there")
    for record in nodes.values():
        problems.extend(_check_node(record, nodes))
    root = by_path.get(ROOT)
    report.root_id = root.id if root else None
    if root is not None and _reachable(root, nodes) != len(nodes):
        problems.append(f"{len(nodes) - _reachable(root, nodes)} nodes hang from no root")
    if nodes and root is None:
        problems.append("nodes are stored but no root")
    meta = tables.get("meta", {})
    summary = _decode_json(meta.get(TREE_SUMMARY))
    if nodes and not (isinstance(summary, dict) and summary.get("root_id") == report.root_id
                      and summary.get("node_count") == len(nodes)):
        problems.append(f"tree.summary {summary} does not describe the stored tree "
                        f"(root {report.root_id}, {len(nodes)} nodes)")


def _check_node(record: NodeRecord, nodes: dict[str, NodeRecord]) -> list[str]:
    if record.type == FILE:
        if record.content_hash is None or file_node_id(record.path, record.content_hash) \
                != record.id:
            return [f"file {record.path}: id does not match its path and content hash"]
        return []
    children = [nodes.get(child) for child in record.children]
    if any(child is None for child in children):
        return [f"directory {record.path}: a child node is missing"]
    present = [child for child in children if child is not None]
    if any(parent_path(child.path) != record.path for child in present):
        return [f"directory {record.path}: a child lies elsewhere"]
    if directory_node_id(record.path, [(c.name, c.id) for c in present]) != record.id:
        return [f"directory {record.path}: id does not match its children"]
    return []


def _reachable(root: NodeRecord, nodes: dict[str, NodeRecord]) -> int:
    seen, stack = set(), [root]
    while stack:
        record = stack.pop()
        if record.id in seen:
            continue
        seen.add(record.id)
        stack.extend(nodes[child] for child in record.children if child in nodes)
    return len(seen)


def _check_frames(tables: dict[str, dict[bytes, bytes]], report: EngineReport) -> None:
    problems = report.violations
    frames: dict[str, Frame] = {}
    for key, raw in tables.get("frames", {}).items():
        try:
            frame = msgspec.json.decode(raw, type=Frame)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            problems.append(f"frame {key!r} does not decode: {exc}")
            continue
        expected = compute_frame_id(frame.node_id, frame.agent_id, frame.frame_type,
                                    frame.content)
        if key.decode() != frame.frame_id or frame.frame_id != expected:
            problems.append(f"frame {key!r}: id does not match its content")
        frames[frame.frame_id] = frame
    report.frames = len(frames)
    report.frame_ids = set(frames)
    for key, value in tables.get("heads", {}).items():
        node_id, _, frame_type = key.decode().partition("\0")
        frame = frames.get(value.decode())
        if frame is None or frame.node_id != node_id or frame.frame_type != frame_type:
            problems.append(f"head {node_id[:12]}/{frame_type} names a frame not of it")
    report.heads = len(tables.get("heads", {}))
    report.head_keys = {(node_id, frame_type) for node_id, _, frame_type in
                        (key.decode().partition("\0") for key in tables.get("heads", {}))}
    numbers: dict[str, list[int]] = {}
    for key, raw in tables.get("frame_log", {}).items():
        log_path, _, rest = key.decode().partition("\0")
        frame_type, _, number = rest.partition("\0")
        numbers.setdefault(f"{log_path}\0{frame_type}", []).append(int(number))
        try:
            entry = msgspec.json.decode(raw, type=LogEntry)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            problems.append(f"history entry {key!r} does not decode: {exc}")
            continue
        frame = frames.get(entry.frame_id)
        if frame is None or frame.path != log_path or frame.frame_type != frame_type:
            problems.append(f"history entry {key!r} names a frame not of {log_path}")
    for prefix, found in numbers.items():
        if sorted(found) != list(range(1, len(found) + 1)):
            problems.append(f"history of {prefix!r} is numbered {sorted(found)[:5]}…, not 1..n")
    report.log_entries = sum(len(found) for found in numbers.values())


def _decode_json(raw: bytes | None) -> Any:
    if raw is None:
        return None
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return None
