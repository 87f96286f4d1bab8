"""Prometheus `/metrics` of `ctree watch --metrics-port` and of the `--follow` bridge, scraped
over HTTP from their own processes."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.engine.generation.helpers import wait_until
from tests.export.conftest import Ctree
from tests.fakes.otlp_receiver import OtlpReceiver

ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 120.0


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str,
          **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def start(root: Path, processes: list[subprocess.Popen[str]], *args: str) -> tuple[
        subprocess.Popen[str], str]:
    """Start `ctree -C root …` and return it with the URL of its `/metrics`."""
    process = subprocess.Popen(
        [sys.executable, "-m", "contextree", "-C", str(root), *args, "--metrics-port", "0"],
        stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    processes.append(process)
    assert process.stderr is not None
    for line in process.stderr:
        match = re.search(r"metrics on (http://127\.0\.0\.1:\d+/metrics)", line)
        if match:
            return process, match.group(1)
    raise AssertionError(f"no metrics line (exit {process.wait()})")


def test_watch_serves_events_by_type_and_sessions_by_status(
    ctree: Ctree, processes: list[subprocess.Popen[str]]
) -> None:
    ctree.ok("scan")
    process, url = start(ctree.root, processes, "watch", "--debounce-ms", "20")
    assert process.stdout is not None
    assert "watching" in process.stdout.readline()
    wait_until(lambda: value(scrape(url), "ctree_events_total", type="watch_started") == 1,
               WAIT_S)
    (ctree.root / "new.py").write_text("x = 1\n", encoding="utf-8")
    wait_until(lambda: value(scrape(url), "ctree_events_total", type="batch_processed") >= 1,
               WAIT_S)
    samples = scrape(url)
    assert value(samples, "ctree_events_total", type="file_changed") >= 1
    assert value(samples, "ctree_sessions", status="active") == 1
    assert value(samples, "ctree_sessions", status="completed") == 1
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0


def test_the_bridge_serves_provider_requests_latency_and_tokens(
    ctree: Ctree, receiver: OtlpReceiver, processes: list[subprocess.Popen[str]]
) -> None:
    ctree.ok("init")
    process, url = start(ctree.root, processes, "export", "otlp", "--follow", "--endpoint",
                         receiver.base_url)
    assert process.stderr is not None
    assert "following" in process.stderr.readline()
    ctree.ok("context", "generate")
    summary = next(e["data"] for e in ctree.events() if e["type"] == "command_summary")
    wait_until(lambda: value(scrape(url), "ctree_events_total", type="session_ended") == 1,
               WAIT_S)
    samples = scrape(url)
    assert value(samples, "ctree_provider_requests_total", provider="local", outcome="ok") == 12
    assert value(samples, "ctree_provider_request_duration_seconds_count",
                 provider="local") == 12
    assert value(samples, "ctree_tokens_total", provider="local",
                 direction="in") == summary["input_tokens"]  # type: ignore[index]
    assert value(samples, "ctree_tokens_total", provider="local",
                 direction="out") == summary["output_tokens"]  # type: ignore[index]
    assert value(samples, "ctree_queue_depth", state="pending") == 0
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0
