"""A stateful model test of the store: random sequences of start, append, flush, end, reopen
and crash, checked after every step against a simple model.

The model knows, per session, how many events were emitted and how many are acknowledged
(made durable by `flush`, `end`, `close`, or a session start). After every step the store
must hold, for each session: seq 1..n with no gap, `session_started` first, the appended
events in emission order, between the acknowledged and the emitted count (exactly the emitted
count once nothing is pending), `session_ended` last when ended, meta agreeing with the
events; and every session's effective status must be the model's. A crash forks a child that
starts a session, emits, flushes part way and SIGKILLs itself; a reopen closes the runtime
without an explicit flush (its sessions stay `active`: their owner, this process, lives).
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from contextree.progress import ProgressRuntime, Session
from contextree.progress.event import decode_event
from tests.reliability.checker import check_store
from tests.reliability.figures import report_figures

LONG = os.environ.get("CTREE_LONG") == "1"
totals = {"machines": 0, "steps": 0, "crashes": 0, "reopens": 0, "events_checked": 0}


@dataclass
class ModelSession:
    handle: Session | None
    emitted: int = 1  # session_started
    acknowledged: int = 1
    status: str = "active"
    ended: bool = False
    crashed: bool = False


class StoreMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.directory = Path(tempfile.mkdtemp(prefix="ctree-model-"))
        self.store = self.directory / "store"
        self.runtime = ProgressRuntime.open(self.store)
        self.sessions: dict[str, ModelSession] = {}
        totals["machines"] += 1

    def _open(self) -> list[str]:
        return sorted(sid for sid, s in self.sessions.items() if s.handle is not None)

    def _pick(self, index: int) -> tuple[str, ModelSession]:
        open_ids = self._open()
        sid = open_ids[index % len(open_ids)]
        return sid, self.sessions[sid]

    @rule()
    def start(self) -> None:
        session = self.runtime.session("model.session")
        self.sessions[session.session_id] = ModelSession(handle=session)

    @precondition(lambda self: bool(self._open()))
    @rule(index=st.integers(min_value=0, max_value=99), count=st.integers(1, 40))
    def append(self, index: int, count: int) -> None:
        _, model = self._pick(index)
        assert model.handle is not None
        for _ in range(count):
            model.handle.emit("queue_stats", {"i": model.emitted})
            model.emitted += 1

    @rule()
    def flush(self) -> None:
        self.runtime.flush()
        for model in self.sessions.values():
            if model.handle is not None:
                model.acknowledged = model.emitted

    @precondition(lambda self: bool(self._open()))
    @rule(index=st.integers(min_value=0, max_value=99), failed=st.booleans())
    def end(self, index: int, failed: bool) -> None:
        _, model = self._pick(index)
        assert model.handle is not None
        model.handle.end("failed" if failed else "completed", "boom" if failed else None)
        model.emitted += 1
        for other in self.sessions.values():  # end() flushes everything emitted before it
            if other.handle is not None:
                other.acknowledged = other.emitted
        model.status, model.ended, model.handle = ("failed" if failed else "completed"), True, None

    @rule()
    def reopen(self) -> None:
        """Close without an explicit flush: close itself must make everything durable."""
        self.runtime.close()
        for model in self.sessions.values():
            if model.handle is not None:
                model.acknowledged = model.emitted
                model.handle = None  # its owner, this process, lives: it stays active
        self.runtime = ProgressRuntime.open(self.store)
        totals["reopens"] += 1

    @rule(emits=st.integers(0, 300), flush_at=st.integers(0, 300), ending=st.booleans())
    def crash(self, emits: int, flush_at: int, ending: bool) -> None:
        """A child process writes a session and is killed; our sessions are closed first
        (no LMDB handle may cross a fork), which acknowledges them like a reopen."""
        self.reopen()
        self.runtime.close()
        flush_at = min(flush_at, emits)
        session_id, acknowledged = _crash_child(self.store, emits, flush_at, ending)
        self.runtime = ProgressRuntime.open(self.store)
        totals["crashes"] += 1
        if session_id is None:
            return
        model = ModelSession(handle=None, emitted=emits + 1, acknowledged=acknowledged + 1,
                             status="interrupted", crashed=True)
        if ending:  # the child ended its session before it was killed: all of it is durable
            model.emitted = model.acknowledged = emits + 2
            model.status, model.ended = "completed", True
        self.sessions[session_id] = model

    @invariant()
    def store_matches_the_model(self) -> None:
        totals["steps"] += 1
        report = check_store(self.store)
        assert report.violations == []
        assert report.sessions == len(self.sessions)
        statuses = {r.session_id: r.status for r in self.runtime.store.list_sessions()}
        for sid, model in self.sessions.items():
            pairs = self.runtime.store.read_raw_events(sid)
            events = [decode_event(raw) for _, raw in pairs]
            totals["events_checked"] += len(events)
            assert model.acknowledged <= len(events) <= model.emitted, (sid, model, len(events))
            if model.handle is None and not model.crashed:
                assert len(events) == model.emitted, "nothing may be pending once it is closed"
            assert events[0].type == "session_started"
            appended = [e.data["i"] for e in events if e.type == "queue_stats"]
            assert appended == list(range(1, len(appended) + 1)), "emission order broken"
            if model.ended:
                assert events[-1].type == "session_ended"
            assert statuses[sid] == model.status

    def teardown(self) -> None:
        self.runtime.close()
        shutil.rmtree(self.directory, ignore_errors=True)


def _crash_child(store: Path, emits: int, flush_at: int, ending: bool) -> tuple[str | None, int]:
    """Fork a writer that emits `emits` events, flushes after `flush_at` of them, optionally
    ends its session, and SIGKILLs itself; return its session id and acknowledged count."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_fd)
        runtime = ProgressRuntime.open(store)
        session = runtime.session("model.crash")
        os.write(write_fd, f"S{session.session_id}\n".encode())
        for index in range(1, emits + 1):
            session.emit("queue_stats", {"i": index})
            if index == flush_at:
                runtime.flush()
                os.write(write_fd, f"A{index}\n".encode())
        if ending:
            session.end()
        os.kill(os.getpid(), signal.SIGKILL)  # mid-commit, whatever the ingestor is doing
    os.close(write_fd)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    data = b""
    while chunk := os.read(read_fd, 4096):
        data += chunk
    os.close(read_fd)
    session_id, acknowledged = None, 0
    for line in data.decode().split():
        if line.startswith("S"):
            session_id = line[1:]
        elif line.startswith("A"):
            acknowledged = int(line[1:])
    return session_id, acknowledged


@pytest.fixture(scope="module", autouse=True)
def _print_model_figures() -> Iterator[None]:
    yield
    if totals["machines"]:  # the machine ran: it must have crashed children along the way
        assert totals["crashes"] > 0 and totals["steps"] > 0
        report_figures("stateful store model (Hypothesis)", **totals, violations=0)


StoreMachine.TestCase.settings = settings(
    max_examples=300 if LONG else 60, stateful_step_count=40 if LONG else 30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestStoreModel = StoreMachine.TestCase
