"""End to end against a real Arize Phoenix (`slow`; skipped when Phoenix is not installed).

Starts `phoenix serve` on a free port with a temporary working directory, exports a real
`context generate` session over OTLP/HTTP and reads the spans back through Phoenix's REST API
(`GET /v1/projects/default/spans`): the same span ids, and the chat spans' token counts equal
to the session's `command_summary`.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.engine.generation.helpers import wait_until
from tests.export.conftest import Ctree, closed_port

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("phoenix") is None,
                       reason="Arize Phoenix is not installed (pip install arize-phoenix)"),
]


@pytest.fixture
def phoenix(tmp_path: Path) -> Iterator[str]:
    port = closed_port()
    env = {**os.environ, "PHOENIX_PORT": str(port), "PHOENIX_HOST": "127.0.0.1",
           "PHOENIX_WORKING_DIR": str(tmp_path / "phoenix"), "PHOENIX_GRPC_PORT": str(
               closed_port())}
    process = subprocess.Popen([sys.executable, "-m", "phoenix.server.main", "serve"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _answers(base + "/healthz") or process.poll() is not None, 180)
        assert process.poll() is None, "phoenix serve exited"
        yield base
    finally:
        process.terminate()
        process.wait(timeout=60)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _spans(base: str) -> list[dict[str, object]]:
    with urllib.request.urlopen(f"{base}/v1/projects/default/spans?limit=1000",
                                timeout=10) as response:
        return list(json.loads(response.read())["data"])


def test_phoenix_shows_the_session_with_its_token_totals(ctree: Ctree, phoenix: str) -> None:
    ctree.ok("context", "generate")
    ctree.ok("export", "otlp", "last", "--endpoint", phoenix)
    summary = next(e["data"] for e in ctree.events() if e["type"] == "command_summary")
    wait_until(lambda: any(s.get("parent_id") is None for s in _spans(phoenix)), 60)
    spans = _spans(phoenix)
    chats = [s for s in spans if str(s["name"]).startswith("chat ")]
    assert len(chats) == 12
    tokens = sum(int(s["attributes"]["gen_ai.usage.input_tokens"])  # type: ignore[index]
                 for s in chats)
    assert tokens == summary["input_tokens"]  # type: ignore[index]
    ctree.ok("export", "otlp", "last", "--endpoint", phoenix)
    assert len(_spans(phoenix)) == len(spans)
