"""Pruning deletes many sessions per write transaction, in bounded transactions."""

from __future__ import annotations

import time
from pathlib import Path

from contextree.progress import ProgressRuntime
from contextree.progress.prune import MAX_SESSIONS_PER_WRITE, delete_in_batches


def test_batches_are_bounded_by_sessions_and_by_events() -> None:
    transactions: list[list[str]] = []

    def write(fn: object) -> None:
        transactions.append([])
        fn(transactions)  # type: ignore[operator]

    def delete_in(txn: object, session_id: str) -> int:
        transactions[-1].append(session_id)
        return 1000 if session_id.startswith("big") else 1

    ids = [f"s{n}" for n in range(6)] + ["big1", "big2", "big3", "s6"]
    commits = delete_in_batches(write, delete_in, ids, max_sessions=3, max_events=1500)
    assert [len(batch) for batch in transactions] == [3, 3, 2, 2]
    assert transactions[2] == ["big1", "big2"], "the event bound closes a transaction"
    assert commits == 4 and [s for batch in transactions for s in batch] == ids


def test_a_prune_of_many_sessions_takes_few_commits(tmp_path: Path) -> None:
    count = MAX_SESSIONS_PER_WRITE + 20
    with ProgressRuntime.open(tmp_path / "store") as runtime:
        for index in range(count + 3):
            with runtime.session("prune.me") as session:
                session.emit("queue_stats", {"n": index})
        store = runtime.store
        before = store.last_txn_id()
        result = store.prune(max_age_s=None, max_count=3, now_s=time.time())
        commits = store.last_txn_id() - before
        assert len(result.removed) == count and result.kept == 3
        assert commits == 2, "one commit per 100 sessions, not one per session"
        assert len(store.list_sessions()) == 3
        removed = result.removed[0].session_id
        assert store.read_events(removed) == [] and store.get_meta(removed) is None
