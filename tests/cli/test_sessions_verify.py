"""`ctree sessions verify` through the real entry point, on damaged copies of a real store."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import msgspec
import pytest

from contextree.cli.app import run
from contextree.progress import EventStore, ProgressRuntime
from contextree.progress.event import event_key
from contextree.progress.store import Transaction

Damage = Callable[[Transaction, EventStore, str], None]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A workspace after one real `ctree context generate`, and its session id."""
    root = tmp_path_factory.mktemp("generated") / "ws"
    (root / "src").mkdir(parents=True)
    (root / "src" / "a.py").write_text("print(1)\n")
    (root / "src" / "b.py").write_text("x = 2\n")
    (root / "README.md").write_text("hello\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("CTREE_STORE", raising=False)
        patch.setenv("CTREE_HOME", str(root.parent / "home"))
        assert run(["-C", str(root), "context", "generate"]) == 0
    store = EventStore.open_readonly(root / ".ctree" / "store")
    try:
        (record,) = store.list_sessions()
    finally:
        store.close()
    return root, record.session_id


@pytest.fixture
def copy(generated: tuple[Path, str], tmp_path: Path) -> tuple[Path, str]:
    root = tmp_path / "ws"
    shutil.copytree(generated[0], root)
    return root, generated[1]


def verify(capsys: pytest.CaptureFixture[str], root: Path, *args: str) -> tuple[int, str]:
    code = run(["-C", str(root), "sessions", "verify", *args])
    out, err = capsys.readouterr()
    return code, out + err


def damage(root: Path, session_id: str, how: Damage) -> None:
    store = EventStore.open(root / ".ctree" / "store", create=False)
    try:
        store.write(lambda txn: how(txn, store, session_id))
    finally:
        store.close()


def stored_event(txn: Transaction, store: EventStore, sid: str, seq: int) -> dict[str, object]:
    raw = txn.get(event_key(sid, seq), db=store.events_db)
    assert raw is not None
    value: dict[str, object] = json.loads(raw)
    return value


def put_event(txn: Transaction, store: EventStore, sid: str, seq: int, **fields: object) -> None:
    event = {"ts": "2026-01-01T00:00:00.000Z", "session": sid, "seq": seq, "type": "queue_stats",
             "data": {}, **fields}
    txn.put(event_key(sid, seq), msgspec.json.encode(event), db=store.events_db)


def last_seq(txn: Transaction, store: EventStore, sid: str) -> int:
    meta = json.loads(txn.get(sid.encode(), db=store.meta_db) or b"{}")
    return int(meta["next_seq"]) - 1


def change_json(db: str, **changes: object) -> Damage:
    def how(txn: Transaction, store: EventStore, sid: str) -> None:
        handle = store.meta_db if db == "meta" else store.sessions_db
        value = json.loads(txn.get(sid.encode(), db=handle) or b"{}")
        txn.put(sid.encode(), json.dumps({**value, **changes}).encode(), db=handle)
    return how


def drop_event(seq: int | None) -> Damage:
    def how(txn: Transaction, store: EventStore, sid: str) -> None:
        txn.delete(event_key(sid, seq or last_seq(txn, store, sid)), db=store.events_db)
    return how


def retype_first(txn: Transaction, store: EventStore, sid: str) -> None:
    put_event(txn, store, sid, 1, type="scan_started")


def event_after_end(txn: Transaction, store: EventStore, sid: str) -> None:
    put_event(txn, store, sid, last_seq(txn, store, sid) + 1)


def second_end(txn: Transaction, store: EventStore, sid: str) -> None:
    seq = last_seq(txn, store, sid) - 1  # the command_summary
    put_event(txn, store, sid, seq, type="session_ended", data={"status": "completed"})


def garbage_event(txn: Transaction, store: EventStore, sid: str) -> None:
    txn.put(event_key(sid, 5), b"{not json", db=store.events_db)


def garbage(db: str) -> Damage:
    def how(txn: Transaction, store: EventStore, sid: str) -> None:
        handle = store.meta_db if db == "meta" else store.sessions_db
        txn.put(sid.encode(), b"\xff garbage", db=handle)
    return how


def summary_says(**changes: object) -> Damage:
    def how(txn: Transaction, store: EventStore, sid: str) -> None:
        seq = last_seq(txn, store, sid) - 1
        event = stored_event(txn, store, sid, seq)
        assert event["type"] == "command_summary"
        data = {**event["data"], **changes}  # type: ignore[dict-item]
        put_event(txn, store, sid, seq, type="command_summary", data=data)
    return how


def test_a_clean_store_verifies(copy: tuple[Path, str], capsys: pytest.CaptureFixture[str]) -> None:
    root, sid = copy
    code, out = verify(capsys, root, "--all")
    assert code == 0, out
    assert "1 session(s) checked, 0 with problems" in out
    code, out = verify(capsys, root, sid[:12], "--json")
    assert code == 0 and json.loads(out) == {"checked": 1, "ok": True, "problems": []}


@pytest.mark.parametrize(("how", "expected"), [
    (drop_event(7), "seq 8: seq gap: expected 7, found 8"),
    (retype_first, "seq 1: the first event is scan_started, not session_started"),
    (event_after_end, "queue_stats after session_ended"),
    (second_end, "session_ended after session_ended"),
    (drop_event(None), "the record says completed but no session_ended is stored"),
    (change_json("meta", next_seq=99), "meta next_seq is 99"),
    (change_json("meta", event_count=3), "meta counts 3 events"),
    (change_json("meta", status="active"), "meta status is active, the record's is completed"),
    (change_json("record", status="failed"),
     "the record says failed, session_ended says completed"),
    (change_json("record", status="active"), "the record says active but session_ended is stored"),
    (garbage_event, "seq 5: the event does not decode"),
    (garbage("meta"), "the meta does not decode"),
    (garbage("record"), "the session record does not decode"),
    (summary_says(generated=4), "command_summary states 4 completed nodes, the replay finds 5"),
    (summary_says(skipped=2), "command_summary states 2 skipped nodes, the replay finds 0"),
    (summary_says(failed=1), "command_summary states 1 failed nodes, the replay finds 0"),
    (summary_says(input_tokens=1), "command_summary states 1 input tokens"),
    (summary_says(output_tokens=1), "command_summary states 1 output tokens"),
], ids=lambda value: value[:40] if isinstance(value, str) else "damage")
def test_each_damage_is_reported(
    copy: tuple[Path, str], capsys: pytest.CaptureFixture[str], how: Damage, expected: str
) -> None:
    root, sid = copy
    damage(root, sid, how)
    code, out = verify(capsys, root, "--all")
    assert code == 1
    assert any(line.startswith(sid) and expected in line for line in out.splitlines()), out
    code, out = verify(capsys, root, sid, "--json")
    report = json.loads(out)
    assert code == 1 and report["ok"] is False
    assert any(expected.split(": ")[-1] in problem["message"] for problem in report["problems"])


def test_a_meta_without_a_record_is_found_by_all(
    copy: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    root, sid = copy
    damage(root, sid, lambda txn, store, s: txn.delete(s.encode(), db=store.sessions_db) and None)
    code, out = verify(capsys, root, "--all")
    assert code == 1 and f"{sid}: no session record stored" in out


def test_verify_needs_sessions_or_all(
    copy: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = verify(capsys, copy[0])
    assert code == 1 and "--all" in out


def test_a_running_session_verifies_while_it_writes(
    copy: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    root, _ = copy
    with ProgressRuntime.open(root / ".ctree" / "store") as runtime, \
            runtime.session("context.generate") as session:
        for index in range(50):
            session.emit("queue_stats", {"pending": index})
        runtime.flush(timeout=60)
        code, out = verify(capsys, root, session.session_id)
        assert code == 0, out
    code, out = verify(capsys, root, "--all")
    assert code == 0 and "2 session(s) checked, 0 with problems" in out
