"""Seed §12 integration tests: sequence rules, follow, replay, interrupted, pruning."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from tests.support.faults import failing_commits
from tests.support.processes import read_line, start_writer

from contextree.errors import IngestError, SessionNotFoundError, SessionStateError
from contextree.progress import ProgressRuntime
from contextree.progress.event import format_ts
from contextree.progress.follow import Follower, follow
from contextree.progress.reducer import apply_events, replay
from contextree.progress.store import encode_record


def test_session_started_commits_as_seq_1(runtime: ProgressRuntime) -> None:
    session = runtime.session("test.cmd", {"a": 1}, workspace="/w")
    events = runtime.store.read_events(session.session_id)
    assert [(e.seq, e.type) for e in events] == [(1, "session_started")]
    assert events[0].data["command"] == "test.cmd" and events[0].data["args"] == {"a": 1}
    record = runtime.store.get_session(session.session_id)
    assert record is not None and record.status == "active" and record.ended_at is None
    session.end()


def test_ten_emitted_events_commit_as_ten_sequential_records(runtime: ProgressRuntime) -> None:
    with runtime.session("test.cmd") as session:
        for index in range(10):
            session.emit("node_generation_started", {"path": f"f{index}.py"})
        runtime.flush()
        events = runtime.store.read_events(session.session_id, after_seq=1)
    assert [e.seq for e in events] == list(range(2, 12))
    assert [e.data["path"] for e in events] == [f"f{i}.py" for i in range(10)]


def test_session_ended_is_the_final_record(runtime: ProgressRuntime) -> None:
    with runtime.session("test.cmd") as session:
        session.emit("scan_started", {"root": ".", "force": False})
    events = runtime.store.read_events(session.session_id)
    assert events[-1].type == "session_ended" and events[-1].seq == len(events) == 3
    assert events[-1].data["status"] == "completed"
    meta = runtime.store.get_meta(session.session_id)
    assert meta is not None and (meta.next_seq, meta.event_count) == (4, 3)
    record = runtime.store.get_session(session.session_id)
    assert record is not None and record.status == "completed" and record.ended_at is not None


def test_a_raising_body_ends_the_session_failed_with_the_error(runtime: ProgressRuntime) -> None:
    with pytest.raises(RuntimeError), runtime.session("test.cmd") as session:
        raise RuntimeError("disk on fire")
    last = runtime.store.read_events(session.session_id)[-1]
    assert last.type == "session_ended" and last.data == {
        "status": "failed", "error": "disk on fire", "duration_ms": last.data["duration_ms"]}
    with pytest.raises(KeyboardInterrupt), runtime.session("test.cmd") as cancelled:
        raise KeyboardInterrupt
    assert runtime.store.get_session(cancelled.session_id).error == "cancelled"  # type: ignore[union-attr]


def test_sequences_are_monotonic_per_session_under_concurrent_emitters(
    runtime: ProgressRuntime,
) -> None:
    sessions = [runtime.session(f"test.s{i}") for i in range(3)]

    def emit_many(index: int) -> None:
        for n in range(2000):
            sessions[index % 3].emit("queue_stats", {"thread": index, "n": n})

    threads = [threading.Thread(target=emit_many, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for session in sessions:
        session.end()
        seqs = [e.seq for e in runtime.store.read_events(session.session_id)]
        assert seqs == list(range(1, 4000 + 3))
        per_thread: dict[int, list[int]] = {}
        for event in runtime.store.read_events(session.session_id):
            if event.type == "queue_stats":
                per_thread.setdefault(event.data["thread"], []).append(event.data["n"])
        assert all(ns == list(range(2000)) for ns in per_thread.values())


def test_follow_reads_newly_committed_events_during_an_active_session(
    runtime: ProgressRuntime,
) -> None:
    session = runtime.session("test.follow")
    follower = Follower(runtime.store, session.session_id)
    assert [e.type for e in follower.poll()] == ["session_started"]
    assert follower.poll() == []
    session.emit("level_started", {"plan_id": "p", "level_index": 0})
    runtime.flush()
    assert [(e.seq, e.type) for e in follower.poll()] == [(2, "level_started")]
    done = threading.Event()
    received: list[int] = []

    def consume() -> None:
        for batch in follow(runtime.store, session.session_id, after_seq=2):
            received.extend(e.seq for e in batch)
        done.set()

    thread = threading.Thread(target=consume)
    thread.start()
    for index in range(50):
        session.emit("queue_stats", {"n": index})
    session.end()
    assert done.wait(10)
    thread.join()
    assert received == list(range(3, 54))


def test_replay_rebuilds_the_final_state_of_a_completed_session(runtime: ProgressRuntime) -> None:
    with runtime.session("context.generate") as session:
        follower = Follower(runtime.store, session.session_id)
        from contextree.progress.state import SessionState

        live = SessionState()
        session.emit("plan_constructed", {"plan_id": "p", "total_nodes": 2, "total_levels": 1})
        session.emit("level_started", {"plan_id": "p", "level_index": 0, "node_count": 2})
        for path in ("a.py", "b.py"):
            session.emit("node_generation_started", {"path": path, "level_index": 0})
            session.emit("provider_request_sent", {"path": path, "attempt": 1})
            runtime.flush()
            apply_events(live, follower.poll())
            session.emit("provider_response_received", {"path": path, "duration_ms": 3})
            session.emit("node_generation_completed", {"path": path, "frame_id": "f"})
        session.emit("level_completed", {"plan_id": "p", "level_index": 0, "completed_count": 2})
    apply_events(live, follower.poll())
    stored = replay(runtime.store.read_events(session.session_id),
                    runtime.store.get_session(session.session_id))
    assert stored.to_json() == live.to_json()
    assert stored.status == "completed" and stored.completed_count == 2


def test_missing_session_ended_is_readable_and_interrupted(store_path: Path) -> None:
    writer = start_writer(store_path, "--count", "25", "--flush-every", "5", "--no-end")
    session_id = read_line(writer, "SESSION ")
    assert writer.wait(30) == 0
    with ProgressRuntime.open(store_path) as runtime:
        events = runtime.store.read_events(session_id)
        assert [e.seq for e in events] == list(range(1, 27))
        assert events[-1].type == "node_generation_started"
        (record,) = runtime.store.list_sessions()
        assert record.status == "interrupted"
        assert replay(events, record).status == "interrupted"
        follower = Follower(runtime.store, session_id, after_seq=26)
        follower.wait(5)
        assert follower.finished


def _end_and_age(runtime: ProgressRuntime, command: str, age_s: float) -> str:
    with runtime.session(command) as session:
        pass
    record = runtime.store.get_session(session.session_id)
    assert record is not None
    stamp = time.time() - age_s
    record.started_at, record.ended_at = format_ts(stamp - 1), format_ts(stamp)
    runtime.store.write(lambda txn: txn.put(session.session_id.encode(), encode_record(record),
                                            db=runtime.store.sessions_db))
    return session.session_id


def test_pruning_removes_the_oldest_completed_sessions_by_count(runtime: ProgressRuntime) -> None:
    ids = [_end_and_age(runtime, f"test.c{i}", 0) for i in range(5)]
    result = runtime.store.prune(max_age_s=None, max_count=2, now_s=time.time())
    assert [r.session_id for r in result.removed] == ids[:3]
    assert [r.session_id for r in runtime.store.list_sessions()] == ids[:2:-1]
    assert runtime.store.read_events(ids[0]) == [] and runtime.store.get_meta(ids[0]) is None


def test_pruning_removes_expired_completed_sessions_by_age(runtime: ProgressRuntime) -> None:
    old = _end_and_age(runtime, "test.old", 30 * 86400)
    fresh = _end_and_age(runtime, "test.fresh", 60)
    dry = runtime.store.prune(max_age_s=14 * 86400, max_count=None, now_s=time.time(),
                              dry_run=True)
    assert [r.session_id for r in dry.removed] == [old]
    assert runtime.store.get_session(old) is not None
    runtime.store.prune(max_age_s=14 * 86400, max_count=None, now_s=time.time())
    assert [r.session_id for r in runtime.store.list_sessions()] == [fresh]


def test_active_and_interrupted_sessions_are_never_pruned(store_path: Path) -> None:
    writer = start_writer(store_path, "--count", "3", "--flush-every", "1", "--no-end")
    interrupted = read_line(writer, "SESSION ")
    writer.wait(30)
    with ProgressRuntime.open(store_path) as runtime:
        active = runtime.session("test.active")
        ended = _end_and_age(runtime, "test.ended", 90 * 86400)
        result = runtime.store.prune(max_age_s=0, max_count=0, now_s=time.time() + 10**6)
        assert [r.session_id for r in result.removed] == [ended]
        statuses = {r.session_id: r.status for r in runtime.store.list_sessions()}
        assert statuses == {active.session_id: "active", interrupted: "interrupted"}
        with pytest.raises(SessionStateError, match="still running"):
            runtime.store.delete_session(active.session_id)
        active.end()


def test_session_references_resolve_by_prefix_and_last(runtime: ProgressRuntime) -> None:
    first = runtime.session("a")
    first.end()
    second = runtime.session("b")
    second.end()
    store = runtime.store
    assert store.resolve_session_id("last") == second.session_id
    assert store.resolve_session_id(second.session_id.lower()) == second.session_id
    with pytest.raises(SessionNotFoundError, match="no session matches"):
        store.resolve_session_id("ZZZZ")
    with pytest.raises(SessionNotFoundError, match="several sessions"):
        store.resolve_session_id(first.session_id[:2])


def test_malformed_stored_values_are_skipped_not_fatal(runtime: ProgressRuntime) -> None:
    with runtime.session("test.cmd") as session:
        session.emit("queue_stats", {"pending": 1})
    sid = session.session_id
    from contextree.progress.event import event_key

    def corrupt(txn: object) -> None:
        txn.put(event_key(sid, 2), b"\x00garbage{", db=runtime.store.events_db)  # type: ignore[attr-defined]
        txn.put(b"01JDBADRECORD0000000000000", b"not json", db=runtime.store.sessions_db)  # type: ignore[attr-defined]

    runtime.store.write(corrupt)
    assert [e.seq for e in runtime.store.read_events(sid)] == [1, 3]
    assert [r.session_id for r in runtime.store.list_sessions()] == [sid]
    assert replay(runtime.store.read_events(sid)).status == "completed"


def test_a_failing_commit_marks_the_session_failed_and_flush_reports_it(
    runtime: ProgressRuntime,
) -> None:
    session = runtime.session("test.fault")
    calls = {"n": 0}

    def fail_twice() -> None:
        calls["n"] += 1
        if calls["n"] <= 2:
            raise OSError(28, "No space left on device")

    with failing_commits(runtime.store, fail_twice):
        session.emit("queue_stats", {"pending": 1})
        with pytest.raises(IngestError, match="No space left"):
            runtime.flush()
    events = runtime.store.read_events(session.session_id)
    assert [e.type for e in events] == ["session_started", "ingest_failed"]
    assert events[-1].data["lost_count"] == 1
    record = runtime.store.get_session(session.session_id)
    assert record is not None and record.status == "failed" and "No space" in (record.error or "")


def test_the_core_says_what_is_wrong_and_names_no_command(
    runtime: ProgressRuntime, tmp_path: Path
) -> None:
    from contextree.errors import StoreNotFoundError
    from contextree.progress import EventStore

    failures: list[Exception] = []
    for ref in ("last", "NOPE"):
        with pytest.raises(SessionNotFoundError) as caught:
            runtime.store.resolve_session_id(ref)
        failures.append(caught.value)
    with pytest.raises(StoreNotFoundError) as missing:
        EventStore.open(tmp_path / "absent", create=False)
    failures.append(missing.value)
    assert [str(error) for error in failures] == [
        "there are no sessions yet",
        "no session matches 'NOPE'",
        f"no store at {tmp_path / 'absent'}",
    ]
