"""The engine's seam to storage: what the tree and frame stores need from an LMDB environment.

`EngineStore` is the one protocol the engine's parts take (a `progress.store.EventStore`
provides it, and `LmdbEnvStore` adapts a bare environment for tests and embedders).
Transactions and sub-database handles are py-lmdb's own typed classes, so mypy checks every
call across the boundary.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Protocol, TypeVar

import lmdb

from contextree.progress.store import DatabaseHandle, Transaction

T = TypeVar("T")

__all__ = ["DatabaseHandle", "EngineStore", "LmdbEnvStore", "Transaction", "as_engine_store"]

class EngineStore(Protocol):
    """What the engine needs from a store: named sub-databases and short transactions."""

    def open_db(self, name: str) -> DatabaseHandle:
        """The sub-database `name`, created if missing (a write)."""
        ...

    def find_db(self, name: str) -> DatabaseHandle | None:
        """The sub-database `name` if it exists; never creates it nor takes a write lock."""
        ...

    def write(self, fn: Callable[[Transaction], T]) -> T:
        """Run `fn` in one write transaction and commit."""
        ...

    def read(self) -> AbstractContextManager[Transaction]:
        """A short read transaction."""
        ...


class LmdbEnvStore:
    """An `EngineStore` over a bare LMDB environment (tests, embedders); grows a full map."""

    def __init__(self, env: lmdb.Environment) -> None:
        self.env = env

    def open_db(self, name: str) -> DatabaseHandle:
        return self.write(lambda txn: self.env.open_db(name.encode(), txn=txn, create=True))

    def find_db(self, name: str) -> DatabaseHandle | None:
        with self.env.begin() as txn:
            if txn.get(name.encode()) is None:
                return None
        return self.write(lambda txn: self.env.open_db(name.encode(), txn=txn, create=False))

    def write(self, fn: Callable[[Transaction], T]) -> T:
        while True:
            try:
                with self.env.begin(write=True) as txn:
                    return fn(txn)
            except lmdb.MapFullError:
                self.env.set_mapsize(self.env.info()["map_size"] * 2)

    def read(self) -> AbstractContextManager[Transaction]:
        return self.env.begin()


def as_engine_store(store: EngineStore | lmdb.Environment) -> EngineStore:
    """Accept an `EngineStore` (such as an `EventStore`) or a bare `lmdb.Environment`."""
    if isinstance(store, lmdb.Environment):
        return LmdbEnvStore(store)
    return store
