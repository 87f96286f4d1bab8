"""The event store: one LMDB environment, three observability sub-databases, and queries.

`obs_sessions` maps a session id to its record, `obs_events` maps `session_id:seq` (seq padded
to 20 digits, so key order is sequence order) to the event JSON, and `obs_session_meta` maps a
session id to its next seq and status snapshot. Session ids are ULIDs, so key order is also
creation order. Engine data lives in other sub-databases of the same environment
(`open_db`). The map grows by itself; every transaction is short.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import TypeAlias, TypeVar, cast

import lmdb
import msgspec

from contextree.errors import (
    SessionNotFoundError,
    SessionStateError,
    StoreError,
    StoreNotFoundError,
)
from contextree.progress.event import (
    SEQ_DIGITS,
    Event,
    decode_event_or_none,
    event_key,
    parse_ts,
    session_prefix,
)
from contextree.progress.liveness import DEFAULT_LIVENESS, Liveness
from contextree.progress.prune import abandoned, delete_in_batches
from contextree.progress.schema import (
    MAX_DBS,
    OBS_EVENTS,
    OBS_SESSION_META,
    OBS_SESSIONS,
    OBSERVABILITY_DATABASES,
)
from contextree.progress.session import (
    ACTIVE,
    ENDED_STATUSES,
    INTERRUPTED,
    SessionMeta,
    SessionRecord,
    effective_status,
)
from contextree.progress.store_check import check_store_files, describe_open_failure
from contextree.progress.store_lock import open_guarded, withdraw_presence

log = logging.getLogger(__name__)

DatabaseHandle: TypeAlias = lmdb._Database
"""An opened sub-database: passed as `db=` to a transaction."""
Transaction: TypeAlias = "lmdb.Transaction[bytes]"
"""A read or write transaction whose values are `bytes`."""
DEFAULT_MAP_SIZE = 256 << 20
EVENT_CHUNK = 4096
"""Events read per read transaction by the streaming readers."""
SESSION_CHUNK = 1024
"""Session records read per read transaction when listing."""
T = TypeVar("T")

_record_decoder = msgspec.json.Decoder(SessionRecord)
_meta_decoder = msgspec.json.Decoder(SessionMeta)
_encoder = msgspec.json.Encoder()


class _TxnGate:
    """Lets many transactions run at once, but none while the map is being resized."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._active = 0
        self._exclusive = False

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._exclusive)
            self._active += 1
        try:
            yield
        finally:
            with self._cond:
                self._active -= 1
                if not self._active:
                    self._cond.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._exclusive)
            self._exclusive = True
            self._cond.wait_for(lambda: not self._active)
        try:
            yield
        finally:
            with self._cond:
                self._exclusive = False
                self._cond.notify_all()


@dataclass
class PruneResult:
    """What a prune removed (or would remove, for a dry run)."""

    removed: list[SessionRecord] = field(default_factory=list)
    kept: int = 0
    dry_run: bool = False


def encode_record(record: SessionRecord) -> bytes:
    return _encoder.encode(record)


def encode_meta(meta: SessionMeta) -> bytes:
    return _encoder.encode(meta)


def decode_record(raw: bytes) -> SessionRecord | None:
    try:
        return _record_decoder.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        log.warning("skipping malformed session record: %s", exc)
        return None


class EventStore:
    """The LMDB environment of one workspace and the observability queries over it."""

    def __init__(self, env: lmdb.Environment, path: Path, *, readonly: bool = False,
                 presence: int | None = None) -> None:
        self.env = env
        self.path = path
        self.readonly = readonly
        self._references = 1
        self._gate = _TxnGate()
        self._dbs: dict[bytes, DatabaseHandle] = {}
        self._dbs_lock = threading.Lock()
        self._presence = presence
        """The descriptor holding the store's presence lock (see `store_lock`)."""
        self.liveness: Liveness = DEFAULT_LIVENESS
        """How heartbeats are judged (the bound and clock are injectable for tests)."""
        if not readonly:
            for name in OBSERVABILITY_DATABASES:
                self.open_db(name)

    @classmethod
    def open(
        cls, path: str | Path, *, create: bool = True, map_size: int = DEFAULT_MAP_SIZE
    ) -> EventStore:
        """Open (or create) the store at `path` for writing; clears reader slots of dead
        processes.

        LMDB allows one environment handle per process, so opening a store that this process
        already has open returns the same object (reference-counted; `close` releases it).
        """
        path = Path(path).absolute()
        with _registry_lock:
            shared = _open_stores.get(path)
            if shared is not None:
                if shared.readonly:
                    raise StoreError(f"the store at {path} is open read-only in this process")
                shared._references += 1
                return shared
            env, presence = _open_environment(path, create=create, map_size=map_size)
            store = cls(env, path, presence=presence)
            _open_stores[path] = store
            return store

    @classmethod
    def open_readonly(cls, path: str | Path) -> EventStore:
        """Open the existing store at `path` for reading only: no write lock is ever taken,
        so a writer stopped in the middle of a commit does not block it, and it works on a
        read-only filesystem. A sub-database the store does not have (a store written by an
        older version) reads as empty. Raises `StoreNotFoundError` when there is no store.

        A store this process already has open (either way) is shared, as with `open`.
        """
        path = Path(path).absolute()
        with _registry_lock:
            shared = _open_stores.get(path)
            if shared is not None:
                shared._references += 1
                return shared
            env, presence = _open_readonly_environment(path)
            store = cls(env, path, readonly=True, presence=presence)
            _open_stores[path] = store
            return store

    def close(self) -> None:
        """Release this reference; the environment closes with the last one."""
        with _registry_lock:
            self._references -= 1
            if self._references > 0:
                return
            _open_stores.pop(self.path, None)
        self.env.close()
        withdraw_presence(self._presence)

    # -- transactions ---------------------------------------------------------------------

    def open_db(self, name: str) -> DatabaseHandle:
        """A named sub-database handle, created if missing (a write: not on a read-only
        store, where a missing one raises `StoreError`)."""
        if self.readonly:
            handle = self.find_db(name)
            if handle is None:
                raise StoreError(f"the store at {self.path} has no {name} data yet")
            return handle
        key = name.encode("ascii")
        with self._dbs_lock:
            handle = self._dbs.get(key)
            if handle is None:
                handle = self.write(lambda txn: self.env.open_db(key, txn=txn, create=True))
                self._dbs[key] = handle
            return handle

    def find_db(self, name: str) -> DatabaseHandle | None:
        """The sub-database `name` if it exists, else None; never creates it, and on a
        read-only store takes no write lock."""
        key = name.encode("ascii")
        with self._dbs_lock:
            handle = self._dbs.get(key)
            if handle is not None:
                return handle
            with self.read() as txn:
                if txn.get(key) is None:
                    return None
            if self.readonly:  # py-lmdb opens it in a read transaction
                handle = self.env.open_db(key, create=False)
            else:
                handle = self.write(lambda txn: self.env.open_db(key, txn=txn, create=False))
            self._dbs[key] = handle
            return handle

    @property
    def sessions_db(self) -> DatabaseHandle:
        return self.open_db(OBS_SESSIONS)

    @property
    def events_db(self) -> DatabaseHandle:
        return self.open_db(OBS_EVENTS)

    @property
    def meta_db(self) -> DatabaseHandle:
        return self.open_db(OBS_SESSION_META)

    def write(self, fn: Callable[[Transaction], T]) -> T:
        """Run `fn` in one write transaction and commit; grows the map when it fills up."""
        if self.readonly:
            raise StoreError(f"the store at {self.path} is open read-only")
        while True:
            grow_from = 0
            with self._gate.shared():
                try:
                    with self.env.begin(write=True) as txn:
                        return fn(txn)
                except lmdb.MapFullError:
                    grow_from = self.env.info()["map_size"]
                except lmdb.MapResizedError:
                    grow_from = -1
            self._resize(grow_from)

    @contextmanager
    def read(self) -> Iterator[Transaction]:
        """A short read transaction (keep it short: a long one makes the file grow)."""
        while True:
            with self._gate.shared():
                try:
                    txn = self.env.begin(buffers=False)
                except lmdb.MapResizedError:
                    txn = None
                if txn is not None:
                    try:
                        yield txn
                    finally:
                        txn.abort()
                    return
            self._resize(-1)

    def _resize(self, grow_from: int) -> None:
        with self._gate.exclusive():
            if grow_from < 0:
                self.env.set_mapsize(0)
            elif self.env.info()["map_size"] == grow_from:
                self.env.set_mapsize(grow_from * 2)
                log.info("store map grown to %d MiB", grow_from * 2 >> 20)

    def last_txn_id(self) -> int:
        """The newest transaction id a reader sees: changes whenever any process commits.

        Read from a read transaction, not `env.info()`: a commit's meta page is written a
        moment before new readers see it, so a follower trusting `info()` could note a
        transaction it has not read and miss its events until the next commit.
        """
        with self.read() as txn:
            return int(txn.id())

    # -- the ingestor's write path ---------------------------------------------------------

    def commit_batch(
        self,
        *,
        records: Mapping[str, SessionRecord],
        events: Sequence[tuple[bytes, bytes]],
        metas: Mapping[str, SessionMeta],
    ) -> None:
        """Write session records, events (stored key and value, in key order within each
        session) and status snapshots, all in one write transaction: the ingestor's group
        commit."""
        record_pairs = [(sid.encode("ascii"), encode_record(r)) for sid, r in records.items()]
        meta_pairs = [(sid.encode("ascii"), encode_meta(m)) for sid, m in metas.items()]
        sessions_db, events_db, meta_db = self.sessions_db, self.events_db, self.meta_db

        def write(txn: Transaction) -> None:
            if record_pairs:
                txn.cursor(db=sessions_db).putmulti(record_pairs)
            if events:
                txn.cursor(db=events_db).putmulti(events)
            if meta_pairs:
                txn.cursor(db=meta_db).putmulti(meta_pairs)

        self.write(write)

    # -- sessions -------------------------------------------------------------------------

    def get_session(self, session_id: str) -> SessionRecord | None:
        sessions_db = self.find_db(OBS_SESSIONS)
        if sessions_db is None:
            return None
        with self.read() as txn:
            raw = txn.get(session_id.encode("ascii"), db=sessions_db)
        return decode_record(raw) if raw is not None else None

    def get_meta(self, session_id: str) -> SessionMeta | None:
        meta_db = self.find_db(OBS_SESSION_META)
        if meta_db is None:
            return None
        with self.read() as txn:
            raw = txn.get(session_id.encode("ascii"), db=meta_db)
        if raw is None:
            return None
        try:
            return _meta_decoder.decode(raw)
        except (msgspec.DecodeError, msgspec.ValidationError):
            log.warning("skipping malformed meta of session %s", session_id)
            return None

    def get_metas(self, session_ids: Iterable[str]) -> dict[str, SessionMeta]:
        """The status snapshots of several sessions, read in one read transaction (a
        session without one, or with a malformed one, is left out)."""
        meta_db = self.find_db(OBS_SESSION_META)
        if meta_db is None:
            return {}
        raws: list[tuple[str, bytes]] = []
        with self.read() as txn:
            for session_id in session_ids:
                raw = txn.get(session_id.encode("ascii"), db=meta_db)
                if raw is not None:
                    raws.append((session_id, raw))
        metas = {}
        for session_id, raw in raws:
            try:
                metas[session_id] = _meta_decoder.decode(raw)
            except (msgspec.DecodeError, msgspec.ValidationError):
                log.warning("skipping malformed meta of session %s", session_id)
        return metas

    def list_sessions(
        self, *, status: str | None = None, command: str | None = None, limit: int | None = None
    ) -> list[SessionRecord]:
        """Session records newest first, `status` replaced by the effective status; the walk
        stops as soon as `limit` records match."""
        return list(islice(self._matching_sessions(status, command), limit))

    def count_sessions(self, *, status: str | None = None, command: str | None = None) -> int:
        """How many sessions `list_sessions` would return without a limit."""
        if status is None and command is None:
            sessions_db = self.find_db(OBS_SESSIONS)
            if sessions_db is None:
                return 0
            with self.read() as txn:
                return int(txn.stat(sessions_db)["entries"])
        return sum(1 for _ in self._matching_sessions(status, command))

    def _matching_sessions(self, status: str | None, command: str | None,
                           ) -> Iterator[SessionRecord]:
        sessions_db = self.find_db(OBS_SESSIONS)
        if sessions_db is None:
            return
        for chunk in self._session_chunks(sessions_db):
            records = [r for r in map(decode_record, chunk) if r is not None]
            metas = self.get_metas(r.session_id for r in records if _needs_meta(r))
            for record in records:
                if command is not None and not _command_matches(record.command, command):
                    continue
                record.status = effective_status(
                    record, metas.get(record.session_id), self.liveness
                )
                if status is not None and record.status != status:
                    continue
                yield record

    def _session_chunks(self, sessions_db: DatabaseHandle) -> Iterator[list[bytes]]:
        """Stored session records newest first, `SESSION_CHUNK` per short read transaction."""
        before: bytes | None = None
        while True:
            chunk: list[bytes] = []
            with self.read() as txn:
                cursor = txn.cursor(db=sessions_db)
                positioned = _position_before(cursor, before)
                while positioned and len(chunk) < SESSION_CHUNK:
                    before = cursor.key()
                    chunk.append(cursor.value())
                    positioned = cursor.prev()
            if chunk:
                yield chunk
            if not positioned:
                return

    def status_of(self, record: SessionRecord) -> str:
        """`record`'s effective status, reading its heartbeat when that is what decides."""
        meta = self.get_meta(record.session_id) if _needs_meta(record) else None
        return effective_status(record, meta, self.liveness)

    def resolve_session_id(self, ref: str) -> str:
        """Resolve a full id, a unique prefix (any case) or `last` to a session id."""
        ref = ref.strip()
        sessions_db = self.find_db(OBS_SESSIONS)
        if ref == "last" and sessions_db is not None:  # the newest `list_sessions` shows
            with self.read() as txn:
                for newest, raw in _iterate_reverse(txn.cursor(db=sessions_db)):
                    if newest.isascii() and decode_record(raw) is not None:
                        return newest.decode("ascii")
        if ref == "last":
            raise SessionNotFoundError(
                "there are no sessions yet", reason=SessionNotFoundError.NO_SESSIONS
            )
        prefix = ref.upper().encode("ascii", "replace")
        matches: list[str] = []
        if prefix and sessions_db is not None:
            with self.read() as txn:
                cursor = txn.cursor(db=sessions_db)
                if cursor.set_range(prefix):
                    for key in cursor.iternext(keys=True, values=False):
                        if not bytes(key).startswith(prefix) or len(matches) > 5:
                            break
                        if bytes(key).isascii():
                            matches.append(bytes(key).decode("ascii"))
        if not matches:
            raise SessionNotFoundError(f"no session matches {ref!r}")
        if len(matches) > 1:
            raise SessionNotFoundError(
                f"{ref!r} matches several sessions ({', '.join(m[:12] for m in matches[:3])}…) — "
                "give more characters of the id", reason=SessionNotFoundError.AMBIGUOUS
            )
        return matches[0]

    # -- events ---------------------------------------------------------------------------

    def iter_raw_events(
        self, session_id: str, after_seq: int = 0, *, chunk: int = EVENT_CHUNK,
        first_chunk: int | None = None,
    ) -> Iterator[tuple[bytes, bytes]]:
        """Stored `(key, value)` pairs with seq > `after_seq`, in order, read `chunk` at a
        time, each chunk in its own short read transaction (a cursor seek past the last seq
        read), so memory stays bounded and no transaction lives long. With `first_chunk`, the
        first read takes that many and each next one twice as many, up to `chunk`: a reader
        that shows the first events at once does not wait for a whole chunk.

        A key in the session's range that is not `session_id:<20 digits>` is not an event
        of the session (another tool wrote it, or it is damaged): it is skipped with a warning.
        """
        size = chunk if first_chunk is None else max(1, min(first_chunk, chunk))
        while True:
            pairs, after_seq, more = self._read_event_chunk(session_id, after_seq, size)
            yield from pairs
            if not more:
                return
            size = min(size * 2, chunk)

    def _read_event_chunk(
        self, session_id: str, after_seq: int, chunk: int
    ) -> tuple[list[tuple[bytes, bytes]], int, bool]:
        prefix = session_prefix(session_id)
        start = len(prefix)
        key_length = start + SEQ_DIGITS
        out: list[tuple[bytes, bytes]] = []
        events_db = self.find_db(OBS_EVENTS)
        if events_db is None:
            return out, after_seq, False
        seen = 0
        more = False
        with self.read() as txn:
            cursor = txn.cursor(db=events_db)
            if not cursor.set_range(event_key(session_id, after_seq + 1)):
                return out, after_seq, False
            for pair in cursor.iternext():
                key = pair[0]
                if not key.startswith(prefix):
                    break
                seen += 1
                if len(key) == key_length and key[start:].isdigit():
                    out.append(pair)
                else:
                    log.warning("skipping malformed event key %r", key)
                if seen >= chunk:
                    more = True
                    break
        if out:  # the seq of the last event read (parsed once, not once per event)
            after_seq = int(out[-1][0][start:])
        return out, after_seq, more

    def read_raw_events(
        self, session_id: str, after_seq: int = 0, limit: int | None = None
    ) -> list[tuple[bytes, bytes]]:
        """`iter_raw_events` as a list, at most `limit` pairs."""
        return list(islice(self.iter_raw_events(session_id, after_seq), limit))

    def iter_events(self, session_id: str, after_seq: int = 0) -> Iterator[Event]:
        """Events with seq > `after_seq`, in order, decoded one chunk at a time; malformed
        values are skipped with a warning."""
        for key, raw in self.iter_raw_events(session_id, after_seq):
            event = decode_event_or_none(raw, key)
            if event is not None:
                yield event

    def read_events(
        self, session_id: str, after_seq: int = 0, limit: int | None = None
    ) -> list[Event]:
        """Events with seq > `after_seq`, in order; malformed values are skipped with a warning."""
        return list(islice(self.iter_events(session_id, after_seq), limit))

    # -- deletion and pruning -------------------------------------------------------------

    def delete_session(self, session_id: str, *, force: bool = False) -> None:
        """Delete a session with its events and meta; refuses an active one."""
        record = self.get_session(session_id)
        if record is None:
            raise SessionNotFoundError(f"no session {session_id}")
        if not force and self.status_of(record) == ACTIVE:
            raise SessionStateError(
                f"session {session_id} is still running (pid {record.pid}) — stop it first"
            )
        self._delete(session_id)

    def _delete_in(self, txn: Transaction, session_id: str) -> int:
        """Delete one session in `txn`; returns how many of its events were removed."""
        key = session_id.encode("ascii")
        prefix = session_prefix(session_id)
        cursor = txn.cursor(db=self.events_db)
        removed = 0
        if cursor.set_range(prefix):
            while bytes(cursor.key()).startswith(prefix):
                if not cursor.delete():
                    break
                removed += 1
        txn.delete(key, db=self.meta_db)
        txn.delete(key, db=self.sessions_db)
        return removed

    def _delete(self, session_id: str) -> None:
        def delete(txn: Transaction) -> None:
            self._delete_in(txn, session_id)

        self.write(delete)

    def prune(
        self,
        *,
        max_age_s: float | None,
        max_count: int | None,
        now_s: float,
        dry_run: bool = False,
        limit: int | None = None,
        interrupted: bool = False,
    ) -> PruneResult:
        """Remove ended sessions older than `max_age_s` or beyond the newest `max_count`.

        Active sessions are never removed; interrupted ones only when `interrupted` is asked
        for (never by the automatic prune): those last seen alive more than `max_age_s` ago.
        Neither is counted against `max_count`. `limit` bounds how many are removed in one
        call, so the automatic prune after each command stays cheap.
        """
        sessions = self.list_sessions()
        ended = [r for r in sessions if r.status in ENDED_STATUSES]
        doomed: list[SessionRecord] = []
        for index, record in enumerate(ended):
            too_many = max_count is not None and index >= max_count
            reference = record.ended_at or record.started_at
            try:
                age = now_s - parse_ts(reference)
            except ValueError:
                age = 0.0
            too_old = max_age_s is not None and age > max_age_s
            if too_many or too_old:
                doomed.append(record)
        if interrupted and max_age_s is not None:
            gone = [r for r in sessions if r.status == INTERRUPTED]
            metas = self.get_metas(r.session_id for r in gone)
            doomed.extend(abandoned(gone, metas, max_age_s=max_age_s, now_s=now_s))
            doomed.sort(key=lambda r: r.session_id, reverse=True)
        doomed.reverse()  # oldest first, so a bounded prune removes the oldest
        if limit is not None:
            doomed = doomed[:limit]
        if not dry_run:
            ids = [record.session_id for record in doomed]
            delete_in_batches(self.write, self._delete_in, ids)
        kept = len(ended) - sum(1 for r in doomed if r.status in ENDED_STATUSES)
        return PruneResult(removed=doomed, kept=kept, dry_run=dry_run)


_open_stores: dict[Path, EventStore] = {}
_registry_lock = threading.Lock()


def _open_environment(path: Path, *, create: bool, map_size: int,
                      ) -> tuple[lmdb.Environment, int | None]:
    check_store_files(path)  # before mapping: a truncated file would be a SIGBUS, not an error
    if not (path / "data.mdb").exists():
        if not create:
            raise StoreNotFoundError(f"no store at {path}")
        try:
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create store at {path}: {exc.strerror} — "
                             "check the directory's permissions") from exc

    def open_writable() -> lmdb.Environment:
        try:
            return lmdb.open(
                str(path), map_size=map_size, max_dbs=MAX_DBS, subdir=True, sync=True,
                metasync=True, writemap=False, max_readers=512, mode=0o600, create=create,
            )
        except lmdb.Error as exc:
            raise StoreError(describe_open_failure(path, exc)) from exc

    env, presence = open_guarded(path, open_writable)
    env.reader_check()
    return env, presence


def _open_readonly_environment(path: Path) -> tuple[lmdb.Environment, int | None]:
    check_store_files(path)  # before mapping: a truncated file would be a SIGBUS, not an error
    if not (path / "data.mdb").is_file():
        raise StoreNotFoundError(f"no store at {path}")

    def open_readonly() -> lmdb.Environment:
        try:
            return lmdb.open(
                str(path), max_dbs=MAX_DBS, subdir=True, readonly=True, max_readers=512,
                create=False,
            )
        except lmdb.Error as exc:
            raise StoreError(f"cannot open store at {path}: {exc}") from exc

    env, presence = open_guarded(path, open_readonly)
    with contextlib.suppress(lmdb.Error):  # a read-only filesystem: LMDB runs without locks
        env.reader_check()
    return env, presence


def _position_before(cursor: lmdb.Cursor[bytes], key: bytes | None) -> bool:
    """Put `cursor` on the last entry before `key` (the very last one when `key` is None)."""
    if key is None or not cursor.set_range(key):
        return cursor.last()
    return cursor.prev()


def _iterate_reverse(cursor: lmdb.Cursor) -> Iterator[tuple[bytes, bytes]]:
    if cursor.last():
        yield from cast("Iterator[tuple[bytes, bytes]]", cursor.iterprev())


def _needs_meta(record: SessionRecord) -> bool:
    return record.status not in ENDED_STATUSES and record.has_heartbeat


def _command_matches(command: str, wanted: str) -> bool:
    return command == wanted or command.startswith(wanted + ".")
