"""Fault injection for the ingestor's commits, from outside the production API.

`failing_commits(store, hook)` replaces the store's `commit_batch` on that one object by a
wrapper that calls `hook()` first: a hook that raises makes the commit fail before anything
is written, as a disk error inside the transaction would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from contextree.progress import EventStore


@contextmanager
def failing_commits(store: EventStore, hook: Callable[[], None]) -> Iterator[None]:
    real_commit = store.commit_batch

    def commit_batch(**batch: Any) -> None:
        hook()
        real_commit(**batch)

    store.commit_batch = commit_batch  # type: ignore[method-assign]
    try:
        yield
    finally:
        del store.commit_batch
