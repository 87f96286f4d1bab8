"""Fixtures for export tests: a real workspace, the real `ctree` entry point, a real OTLP
receiver on 127.0.0.1 and the fake LLM server as provider `fake`."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from contextree.cli.app import run
from tests.engine.generation.helpers import SAMPLE_TREE, write_tree
from tests.fakes.llm_server import FakeLLMServer
from tests.fakes.otlp_receiver import OtlpReceiver

CANARY = "sk-export-canary-5f4e3d2c1b0a99887766554433221100"


class Ctree:
    """Runs `ctree -C <root> …` in-process and returns `(code, out, err)`."""

    def __init__(self, root: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.root = root
        self.capsys = capsys

    def __call__(self, *args: str) -> tuple[int, str, str]:
        code = run(["-C", str(self.root), *args])
        out, err = self.capsys.readouterr()
        return code, out, err

    def ok(self, *args: str) -> str:
        code, out, err = self(*args)
        assert code == 0, err
        return out

    def events(self, ref: str = "last") -> list[dict[str, object]]:
        return [json.loads(line) for line in self.ok("sessions", "events", ref).splitlines()]

    def last_session_id(self) -> str:
        return str(json.loads(self.ok("sessions", "list", "--json", "--limit", "1"))[0][
            "session_id"])


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("CTREE_STORE", raising=False)
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                 "OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_PROTOCOL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CTREE_HOME", str(tmp_path / "home"))
    workspace = tmp_path / "ws"
    workspace.mkdir()
    write_tree(workspace, SAMPLE_TREE)
    return workspace


@pytest.fixture
def ctree(root: Path, capsys: pytest.CaptureFixture[str]) -> Ctree:
    return Ctree(root, capsys)


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as started:
        yield started


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def llm(root: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeLLMServer]:
    """The fake server as provider `fake`, and provider `down` at a closed port."""
    with FakeLLMServer() as fake:
        (root / ".ctree").mkdir(exist_ok=True)
        (root / ".ctree" / "config.toml").write_text(
            f'[providers.fake]\ntype = "openai"\nbase_url = "{fake.openai_base_url}"\n'
            'model = "fake-model"\napi_key_env = "CTREE_EXPORT_TEST_KEY"\ntimeout_s = 5\n\n'
            f'[providers.down]\ntype = "openai"\nbase_url = "http://127.0.0.1:{closed_port()}'
            '/v1"\nmodel = "down-model"\napi_key_env = "CTREE_EXPORT_TEST_KEY"\ntimeout_s = 5\n',
            encoding="utf-8")
        monkeypatch.setenv("CTREE_EXPORT_TEST_KEY", CANARY)
        yield fake
