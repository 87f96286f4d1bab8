"""`ctree export otlp --follow` in its own process: spans shipped while a session runs, a clean
stop on SIGTERM, a resume after a restart, and a dead endpoint said once and survived."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.export.conftest import Ctree
from tests.fakes.llm_server import FakeLLMServer, block
from tests.fakes.otlp_receiver import OtlpReceiver, ReceivedSpan

ROOT = Path(__file__).resolve().parents[2]


class BridgeProcess:
    """`ctree export otlp --follow` as a subprocess, its stderr read line by line."""

    def __init__(self, root: Path, endpoint: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "contextree", "-C", str(root), "export", "otlp", "--follow",
             "--endpoint", endpoint, "--timeout", "1"],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        self.lines: list[str] = []

    def wait_for_line(self, fragment: str) -> str:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)
            if fragment in line:
                return line
        raise AssertionError(f"bridge exited ({self.process.wait()}) without {fragment!r}: "
                             f"{self.lines}")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        self.wait_for_line("stopped:")
        return self.process.wait(timeout=60)


@pytest.fixture
def bridges() -> Iterator[list[BridgeProcess]]:
    started: list[BridgeProcess] = []
    yield started
    for bridge in started:
        if bridge.process.poll() is None:
            bridge.process.kill()
            bridge.process.wait()


def roots(spans: list[ReceivedSpan]) -> list[ReceivedSpan]:
    return [span for span in spans if not span.parent_span_id]


def test_spans_ship_while_the_session_runs_and_a_restart_resumes(
    ctree: Ctree, receiver: OtlpReceiver, llm: FakeLLMServer,
    bridges: list[BridgeProcess],
) -> None:
    ctree.ok("init")
    bridge = BridgeProcess(ctree.root, receiver.base_url)
    bridges.append(bridge)
    bridge.wait_for_line("following")
    gate = threading.Event()
    llm.enqueue(block(gate))
    generate = threading.Thread(target=ctree, args=("context", "generate", "pkg/core.py",
                                                    "--provider", "fake"))
    generate.start()
    try:
        running = receiver.wait_for(lambda spans: any(s.name == "scan" for s in spans))
        llm.wait_for_requests(1)
        assert roots(running) == []  # the session is still running: its root is open
    finally:
        gate.set()
        generate.join()
    first = receiver.wait_for(lambda spans: len(roots(spans)) == 1)
    first_trace = roots(first)[0].trace_id
    assert {s.name for s in first} >= {"scan", "generate", "level 0", "chat fake-model"}
    assert bridge.stop() == 0

    ctree.ok("scan")  # while no bridge runs
    shipped = sum(1 for s in receiver.spans if s.trace_id == first_trace)
    again = BridgeProcess(ctree.root, receiver.base_url)
    bridges.append(again)
    again.wait_for_line("following")
    spans = receiver.wait_for(lambda spans: len(roots(spans)) == 2)
    assert roots(spans)[1].name == "ctree scan"
    assert again.stop() == 0
    assert sum(1 for s in receiver.spans if s.trace_id == first_trace) == shipped


def test_a_dead_endpoint_is_said_once_and_the_spans_follow_when_it_returns(
    ctree: Ctree, receiver: OtlpReceiver, bridges: list[BridgeProcess]
) -> None:
    ctree.ok("init")
    receiver.refuse(True)
    bridge = BridgeProcess(ctree.root, receiver.base_url)
    bridges.append(bridge)
    bridge.wait_for_line("following")
    ctree.ok("scan")
    bridge.wait_for_line("is not taking spans")
    receiver.refuse(False)
    bridge.wait_for_line("is back")
    spans = receiver.wait_for(lambda spans: len(roots(spans)) == 1)
    assert roots(spans)[0].name == "ctree scan"
    assert bridge.stop() == 0
    assert sum("is not taking spans" in line for line in bridge.lines) == 1
