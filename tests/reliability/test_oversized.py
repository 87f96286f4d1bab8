"""Oversized payloads get a clear limit, never an unbounded prompt, frame or event.

A 50 MB text file and a 50 MB binary file in the workspace are scanned (hashed in full) and
given context, but what reaches the provider is bounded: the text is cut at `max_file_bytes`,
the binary is described by name and size and not sent. A provider that answers with 10 MB is
refused with a one-line error naming the limit, and nothing of it is stored. An event over
the 1 MiB payload limit is refused at `emit`, and the session goes on.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from contextree.engine.providers.http_errors import MAX_RESPONSE_BYTES
from contextree.engine.workspace.config import DEFAULT_MAX_FILE_BYTES
from contextree.errors import EventError
from contextree.progress import EventStore, ProgressRuntime
from contextree.progress.event import MAX_PAYLOAD_BYTES
from tests.fakes.llm_server import FakeLLMServer, reply
from tests.reliability.checker import check_store
from tests.reliability.figures import report_figures
from tests.reliability.forked import run_cli

BIG = 50 * 1000 * 1000


def _write_big_files(workspace: Path) -> None:
    chunk = b"line of text that goes on and on\n" * 32_768  # ~1 MB
    with open(workspace / "big.txt", "wb") as stream:
        written = 0
        while written < BIG:
            stream.write(chunk[: BIG - written])
            written += min(len(chunk), BIG - written)
    with open(workspace / "big.bin", "wb") as stream:
        stream.truncate(BIG)  # 50 MB of NUL bytes, sparse on disk


def _config(workspace: Path, server: FakeLLMServer) -> None:
    (workspace / ".ctree").mkdir(exist_ok=True)
    (workspace / ".ctree" / "config.toml").write_text(
        f'[providers.fake]\ntype = "openai"\nmodel = "m"\nbase_url = "{server.openai_base_url}"\n',
        encoding="utf-8")


def _events(store_path: Path, session_id: str) -> list[tuple[str, dict[str, object]]]:
    store = EventStore.open(store_path, create=False)
    try:
        return [(event.type, event.data) for event in store.read_events(session_id)]
    finally:
        store.close()


def test_a_50_mb_file_is_scanned_whole_and_sent_bounded(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "small.py").write_text("VALUE = 1\n", encoding="utf-8")
    _write_big_files(workspace)
    with FakeLLMServer() as server:
        _config(workspace, server)
        scan = run_cli(["-C", str(workspace), "scan", "--json"])
        assert scan.code == 0, scan.stderr
        assert json.loads(scan.stdout)["bytes_hashed"] >= 2 * BIG
        result = run_cli(["-C", str(workspace), "context", "generate", "--provider", "fake"],
                         env={"CTREE_HOME": str(tmp_path / "home")})
        assert result.code == 0, result.stderr
        requests = {request.user_prompt.split("`")[1]: request for request in server.requests
                    if request.user_prompt and request.user_prompt.count("`") >= 2}
    text_request, binary_request = requests["big.txt"], requests["big.bin"]
    assert len(text_request.raw_body) < DEFAULT_MAX_FILE_BYTES + 64 * 1024
    assert "truncated to the first" in (text_request.user_prompt or "")
    assert len(binary_request.raw_body) < 16 * 1024
    assert "binary file of 50000000 bytes" in (binary_request.user_prompt or "")
    events = _events(workspace / ".ctree" / "store", result.session_ids[0])
    sent = {data["path"]: data["prompt_chars"] for kind, data in events
            if kind == "provider_request_sent"}
    assert int(str(sent["big.txt"])) < DEFAULT_MAX_FILE_BYTES + 4096
    for path in ("big.txt", "big.bin"):
        got = run_cli(["-C", str(workspace), "context", "get", path, "--json"])
        assert got.code == 0, got.stderr
        assert json.loads(got.stdout)["frame"]["content"]
    report_figures("oversized input (50 MB files)", file_bytes=2 * BIG,
                   text_request_bytes=len(text_request.raw_body),
                   binary_request_bytes=len(binary_request.raw_body))


def test_a_10_mb_provider_response_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "small.py").write_text("VALUE = 1\n", encoding="utf-8")
    huge = "# context\n" + "y" * (10 << 20)
    with FakeLLMServer() as server:
        server.set_default(reply(huge))
        _config(workspace, server)
        result = run_cli(["-C", str(workspace), "context", "generate", "--provider", "fake"],
                         env={"CTREE_HOME": str(tmp_path / "home")})
        test = run_cli(["-C", str(workspace), "provider", "test", "fake"],
                       env={"CTREE_HOME": str(tmp_path / "home")})
    for outcome in (result, test):
        assert outcome.code == 1, outcome.stdout
        (line,) = outcome.error_lines
        assert f"over the {MAX_RESPONSE_BYTES:,}-byte limit" in line, line
    store = workspace / ".ctree" / "store"
    assert check_store(store).violations == []
    assert (store / "data.mdb").stat().st_size < 4 << 20, "the refused reply was stored"
    failed = [data for kind, data in _events(store, result.session_ids[0])
              if kind == "provider_request_failed"]
    assert failed and all(data["retryable"] is False for data in failed)
    report_figures("oversized provider response", response_bytes=len(huge),
                   limit_bytes=MAX_RESPONSE_BYTES, refused=len(failed) + 1, stored=0)


def test_an_event_over_the_payload_limit_is_refused_at_emit(store_path: Path) -> None:
    with ProgressRuntime.open(store_path) as runtime:
        with runtime.session("oversized") as session:
            with pytest.raises(EventError, match="limit"):
                session.emit("queue_stats", {"blob": "z" * (MAX_PAYLOAD_BYTES + 1)})
            session.emit("queue_stats", {"after": True})
        events = [e.type for e in runtime.store.read_events(session.session_id)]
    assert events == ["session_started", "queue_stats", "session_ended"]
    assert os.path.getsize(store_path / "data.mdb") < MAX_PAYLOAD_BYTES
