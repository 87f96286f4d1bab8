"""Context frames: markdown per node, the head index and the per-path history of generations.

A frame is what an agent wrote about one node, with who wrote it (provider, model, tokens,
session) and when. Its id is BLAKE3 over the node id, agent, frame type and content, so the
same text written twice is one frame. Three sub-databases hold them: `frames` (frame id →
frame JSON carrying its newest generation), `heads` (`node_id NUL frame_type` → frame id: the
current frame of that node version) and `frame_log` (`path NUL frame_type NUL n` → one entry
per generation, newest last, each with its own provenance), which keeps every generation of a
path visible across edits, even one whose text equals an earlier frame. Node ids encode
content, so a node that has a head for its current id is up to date. The schema version is
`frames.schema_version` in `meta`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

import lmdb
import msgspec
from blake3 import blake3

from contextree.engine.store import DatabaseHandle, EngineStore, Transaction, as_engine_store
from contextree.errors import StoreError
from contextree.progress.schema import FRAME_LOG, FRAMES, FRAMES_SCHEMA_VERSION, HEADS, META

log = logging.getLogger(__name__)
T = TypeVar("T")

SCHEMA_VERSION = 1
LOG_DIGITS = 10


class Frame(msgspec.Struct, frozen=True):
    """One generated context frame, as stored."""

    frame_id: str
    node_id: str
    path: str
    node_type: str
    agent_id: str
    frame_type: str
    provider_name: str
    provider_type: str
    model: str
    input_tokens: int | None
    output_tokens: int | None
    created_at: str
    content: str
    session_id: str | None = None


class LogEntry(msgspec.Struct, frozen=True):
    """One generation in a path's history: which frame, for which node version, when, and
    who wrote it (entries written before provenance was logged have only the first three)."""

    frame_id: str
    node_id: str
    created_at: str
    provider_name: str | None = None
    provider_type: str | None = None
    model: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    session_id: str | None = None

    @classmethod
    def of(cls, frame: Frame) -> LogEntry:
        """The entry recording `frame`'s generation."""
        return cls(frame.frame_id, frame.node_id, frame.created_at, frame.provider_name,
                   frame.provider_type, frame.model, frame.input_tokens, frame.output_tokens,
                   frame.session_id)

    def applied_to(self, frame: Frame) -> Frame:
        """`frame` as this generation wrote it (its provenance and time)."""
        if self.provider_name is None or self.provider_type is None or self.model is None:
            return msgspec.structs.replace(frame, created_at=self.created_at)
        return msgspec.structs.replace(
            frame, provider_name=self.provider_name, provider_type=self.provider_type,
            model=self.model, input_tokens=self.input_tokens, output_tokens=self.output_tokens,
            created_at=self.created_at, session_id=self.session_id)


_encode = msgspec.json.Encoder().encode
_decode_frame = msgspec.json.Decoder(Frame).decode
_decode_entry = msgspec.json.Decoder(LogEntry).decode
_decode_any = msgspec.json.Decoder().decode


def _lenient(decode: Callable[[bytes], T], what: str) -> Callable[[bytes], T | None]:
    """`decode`, but a damaged stored value is skipped with a warning instead of raising:
    the node then reads as having no context, and the next generation rebuilds it."""

    def decode_or_none(raw: bytes) -> T | None:
        try:
            return decode(raw)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            log.warning("skipping a damaged %s in the store: %s", what, exc)
            return None

    return decode_or_none


_frame_or_none = _lenient(_decode_frame, "frame")
_entry_or_none = _lenient(_decode_entry, "frame log entry")
_any_or_none = _lenient(_decode_any, "frames meta value")


def default_frame_type(agent_id: str) -> str:
    """The frame type an agent writes unless told otherwise: `context-<agent>`."""
    return f"context-{agent_id}"


def compute_frame_id(node_id: str, agent_id: str, frame_type: str, content: str) -> str:
    """BLAKE3 over the node id, agent, frame type and content (NUL-separated, tagged)."""
    hasher = blake3(b"contextree:frame\0")
    for part in (node_id, agent_id, frame_type, content):
        hasher.update(part.encode("utf-8"))
        hasher.update(b"\0")
    return hasher.hexdigest()


def head_key(node_id: str, frame_type: str) -> bytes:
    return f"{node_id}\0{frame_type}".encode()


def _log_prefix(path: str, frame_type: str) -> bytes:
    return f"{path}\0{frame_type}\0".encode()


class FrameStore:
    """The frame sub-databases of a store (an `EventStore`, or a bare LMDB environment).

    The constructor creates them and stamps the schema (a writer's open); `open_existing`
    is the reader's open: it never writes.
    """

    store: EngineStore
    frames_db: DatabaseHandle
    heads_db: DatabaseHandle
    log_db: DatabaseHandle
    meta_db: DatabaseHandle

    def __init__(self, store: EngineStore | lmdb.Environment) -> None:
        self.store = as_engine_store(store)
        self.frames_db = self.store.open_db(FRAMES)
        self.heads_db = self.store.open_db(HEADS)
        self.log_db = self.store.open_db(FRAME_LOG)
        self.meta_db = self.store.open_db(META)
        self._check_schema()

    @classmethod
    def open_existing(cls, store: EngineStore | lmdb.Environment) -> FrameStore | None:
        """The stored frames for reading, or None when no frame was written yet. Creates
        nothing; frames of a newer schema raise `StoreError`."""
        store = as_engine_store(store)
        handles = [store.find_db(name) for name in (FRAMES, HEADS, FRAME_LOG, META)]
        frames_db, heads_db, log_db, meta_db = handles
        if frames_db is None or heads_db is None or log_db is None or meta_db is None:
            return None
        frames = cls.__new__(cls)
        frames.store, frames.frames_db, frames.heads_db = store, frames_db, heads_db
        frames.log_db, frames.meta_db = log_db, meta_db
        version = frames._schema_version()
        frames._refuse_newer(version)
        return frames if version == SCHEMA_VERSION else None

    def _schema_version(self) -> object:
        with self.store.read() as txn:
            raw = txn.get(FRAMES_SCHEMA_VERSION, db=self.meta_db)
        return _any_or_none(raw) if raw is not None else None

    @staticmethod
    def _refuse_newer(version: object) -> None:
        if isinstance(version, int) and version > SCHEMA_VERSION:
            raise StoreError(
                f"the frames in this store have schema {version}, newer than this contextree "
                f"understands ({SCHEMA_VERSION}) — upgrade contextree"
            )

    def _check_schema(self) -> None:
        version = self._schema_version()
        if version == SCHEMA_VERSION:
            return
        self._refuse_newer(version)
        self.store.write(lambda txn: txn.put(FRAMES_SCHEMA_VERSION, _encode(SCHEMA_VERSION),
                                             db=self.meta_db))

    # -- writing --------------------------------------------------------------------------

    def put(self, frame: Frame) -> None:
        """Store `frame`, make it the head of its node version and log it for its path."""
        self.put_many([frame])

    def put_many(self, frames: Sequence[Frame]) -> None:
        """Store several frames in one transaction (one commit, one fsync)."""
        if not frames:
            return

        def write(txn: Transaction) -> None:
            for frame in frames:
                self._put(txn, frame)

        self.store.write(write)

    def _put(self, txn: Transaction, frame: Frame) -> None:
        """Record one generation: the frame (its newest provenance), the head and a log
        entry. Putting the very same generation again changes nothing."""
        frame_key = frame.frame_id.encode()
        txn.put(frame_key, _encode(frame), db=self.frames_db)
        txn.put(head_key(frame.node_id, frame.frame_type), frame_key, db=self.heads_db)
        prefix = _log_prefix(frame.path, frame.frame_type)
        last_key, last = self._last_log_entry(txn, prefix)
        entry = LogEntry.of(frame)
        if last == entry:
            return
        number = int(last_key[len(prefix):]) + 1 if last_key is not None else 1
        txn.put(prefix + b"%0*d" % (LOG_DIGITS, number), _encode(entry), db=self.log_db)

    def _last_log_entry(
        self, txn: Transaction, prefix: bytes
    ) -> tuple[bytes | None, LogEntry | None]:
        cursor = txn.cursor(db=self.log_db)
        positioned = cursor.set_range(prefix + b"\xff") and cursor.prev()
        if not positioned:
            positioned = cursor.last()
        if positioned and cursor.key().startswith(prefix):
            return bytes(cursor.key()), _entry_or_none(cursor.value())
        return None, None

    # -- reading --------------------------------------------------------------------------

    def get(self, frame_id: str) -> Frame | None:
        with self.store.read() as txn:
            raw = txn.get(frame_id.encode(), db=self.frames_db) if frame_id else None
        return _frame_or_none(raw) if raw is not None else None

    def head(self, node_id: str, frame_type: str) -> Frame | None:
        """The current frame of a node version, or None when it has no context yet."""
        with self.store.read() as txn:
            frame_id = txn.get(head_key(node_id, frame_type), db=self.heads_db)
            raw = txn.get(frame_id, db=self.frames_db) if frame_id else None
        return _frame_or_none(raw) if raw is not None else None

    def heads(self, node_ids: Iterable[str], frame_type: str) -> dict[str, Frame]:
        """The head frames of several node versions that have one, in one transaction."""
        found: dict[str, Frame] = {}
        with self.store.read() as txn:
            for node_id in node_ids:
                frame_id = txn.get(head_key(node_id, frame_type), db=self.heads_db)
                raw = txn.get(frame_id, db=self.frames_db) if frame_id else None
                frame = _frame_or_none(raw) if raw is not None else None
                if frame is not None:
                    found[node_id] = frame
        return found

    def with_head(self, node_ids: Iterable[str], frame_type: str) -> set[str]:
        """Which of `node_ids` have a head for `frame_type` (no frame is decoded)."""
        with self.store.read() as txn:
            return {
                node_id for node_id in node_ids
                if txn.get(head_key(node_id, frame_type), db=self.heads_db) is not None
            }

    def history(self, path: str, frame_type: str) -> list[Frame]:
        """Every generation for `path` and `frame_type`, oldest first, newest last: each the
        frame with that generation's provenance (the same text may appear more than once)."""
        prefix = _log_prefix(path, frame_type)
        frames: list[Frame] = []
        with self.store.read() as txn:
            cursor = txn.cursor(db=self.log_db)
            if not cursor.set_range(prefix):
                return frames
            for key, raw in cursor:
                if not bytes(key).startswith(prefix):
                    break
                entry = _entry_or_none(raw)
                if entry is None or not entry.frame_id:
                    continue
                frame_raw = txn.get(entry.frame_id.encode(), db=self.frames_db)
                frame = _frame_or_none(frame_raw) if frame_raw is not None else None
                if frame is not None:
                    frames.append(entry.applied_to(frame))
        return frames

    def frame_types(self) -> list[str]:
        """Every frame type that has at least one head, sorted."""
        types: set[str] = set()
        with self.store.read() as txn:
            for key in txn.cursor(db=self.heads_db).iternext(keys=True, values=False):
                types.add(bytes(key).partition(b"\0")[2].decode())
        return sorted(types)

    def coverage(self, node_ids: Iterable[str], frame_type: str) -> tuple[int, int]:
        """`(covered, total)`: how many of `node_ids` have a head for `frame_type`."""
        ids = list(node_ids)
        return len(self.with_head(ids, frame_type)), len(ids)
