"""Across processes: a SIGKILLed writer loses nothing acknowledged; a follower in another
process sees every event in order."""

from __future__ import annotations

import signal
from pathlib import Path

from tests.support.processes import read_line, start_writer

from contextree.progress import ProgressRuntime
from contextree.progress.follow import follow


def test_sigkill_mid_stream_loses_no_acknowledged_event(store_path: Path) -> None:
    for _round in range(3):
        writer = start_writer(store_path, "--flush-every", "50")
        session_id = read_line(writer, "SESSION ")
        acknowledged = 0
        for _ in range(20 + 7 * _round):
            acknowledged = int(read_line(writer, "ACK "))
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        with ProgressRuntime.open(store_path) as runtime:
            events = runtime.store.read_events(session_id)
            seqs = [e.seq for e in events]
            assert seqs == list(range(1, len(seqs) + 1)), "seq must be contiguous from 1"
            emitted = [e.data["index"] for e in events[1:]]
            assert emitted == list(range(1, len(emitted) + 1))
            assert len(emitted) >= acknowledged
            record = runtime.store.get_session(session_id)
            assert record is not None
            assert [r.status for r in runtime.store.list_sessions()
                    if r.session_id == session_id] == ["interrupted"]
            meta = runtime.store.get_meta(session_id)
            assert meta is not None and meta.event_count == len(events)


def test_a_follower_sees_another_process_session_in_order(store_path: Path) -> None:
    ProgressRuntime.open(store_path).close()
    writer = start_writer(store_path, "--count", "3000", "--flush-every", "100", "--rate", "20000")
    session_id = read_line(writer, "SESSION ")
    with ProgressRuntime.open(store_path) as runtime:
        seen: list[int] = []
        for batch in follow(runtime.store, session_id):
            seen.extend(e.seq for e in batch)
        assert writer.wait(30) == 0
    assert seen == list(range(1, 3000 + 3))
