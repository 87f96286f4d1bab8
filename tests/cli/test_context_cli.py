"""`ctree context generate|get`, `ctree agent …` and `ctree provider …` through the real
entry point, on a real workspace (the fake LLM server stands in for remote providers)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.engine.generation.helpers import SAMPLE_TREE, edit, write_tree
from tests.fakes.llm_server import (
    Behaviour,
    FakeLLMServer,
    close_connection,
    delay,
    error,
    reply,
)

from contextree.cli.app import run
from contextree.progress.catalog import missing_fields

NO_WORKSPACE_LINE = "error: no contextree workspace here or in any parent — run `ctree init`\n"

NODES = 12
CANARY = "sk-cli-canary-0a1b2c3d4e5f60718293a4b5c6d7e8f9"


def ctree(capsys: pytest.CaptureFixture[str], root: Path, *args: str) -> tuple[int, str, str]:
    code = run(["-C", str(root), *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def root(tmp_path: Path) -> Path:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    write_tree(workspace, SAMPLE_TREE)
    return workspace


@pytest.fixture
def server(root: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeLLMServer]:
    """The fake server as provider `fake` (OpenAI wire format) in the workspace config."""
    with FakeLLMServer() as fake:
        (root / ".ctree").mkdir(exist_ok=True)
        (root / ".ctree" / "config.toml").write_text(
            f'[providers.fake]\ntype = "openai"\nbase_url = "{fake.openai_base_url}"\n'
            'model = "fake-model"\napi_key_env = "CTREE_CLI_TEST_KEY"\ntimeout_s = 5\n',
            encoding="utf-8")
        monkeypatch.setenv("CTREE_CLI_TEST_KEY", CANARY)
        yield fake


def last_session(capsys: pytest.CaptureFixture[str], root: Path) -> dict[str, object]:
    code, out, _ = ctree(capsys, root, "sessions", "list", "--json", "--limit", "1")
    assert code == 0
    return json.loads(out)[0]  # type: ignore[no-any-return]


def events(capsys: pytest.CaptureFixture[str], root: Path) -> list[dict[str, object]]:
    code, out, _ = ctree(capsys, root, "sessions", "events", "last")
    assert code == 0
    return [json.loads(line) for line in out.splitlines()]


def test_generate_twice_then_after_an_edit(
    capsys: pytest.CaptureFixture[str], root: Path
) -> None:
    code, out, err = ctree(capsys, root, "context", "generate")
    assert code == 0, err
    session = last_session(capsys, root)
    assert f"session {session['session_id']}" in out
    assert f"{NODES} generated, 0 up to date — {NODES} nodes" in out
    assert session["command"] == "context.generate" and session["status"] == "completed"
    for event in events(capsys, root):
        assert missing_fields(str(event["type"]), event["data"]) == []  # type: ignore[arg-type]
    code, out, _ = ctree(capsys, root, "context", "generate")
    assert code == 0 and f"0 generated, {NODES} up to date" in out
    edit(root, "pkg/core.py", "def sub(a, b):\n    return a - b\n")
    code, out, _ = ctree(capsys, root, "context", "generate")
    assert code == 0 and f"3 generated, {NODES - 3} up to date" in out
    code, out, _ = ctree(capsys, root, "sessions", "replay", "last", "--json")
    state = json.loads(out)
    done = {p for p, n in state["nodes"].items() if n["status"] == "completed"}
    assert done == {"pkg/core.py", "pkg", "."}
    assert state["counts"]["skipped"] == NODES - 3
    assert state["summary"]["generated"] == 3 and state["summary"]["ok"] is True


def test_bad_paths_fail_in_one_line_with_a_failed_session(
    capsys: pytest.CaptureFixture[str], root: Path
) -> None:
    ctree(capsys, root, "init")
    for path, message in (("../x", "outside the workspace"), ("nope.py", "does not exist")):
        code, _, err = ctree(capsys, root, "context", "generate", path)
        assert code == 1 and err.count("\n") == 1 and message in err
        session = last_session(capsys, root)
        assert session["status"] == "failed" and message in str(session["error"])


def test_a_failed_node_exits_1_and_names_it(
    capsys: pytest.CaptureFixture[str], root: Path, server: FakeLLMServer
) -> None:
    server.set_default(lambda r: error(401, f"bad key {CANARY}")
                       if b"Describe pkg/core.py" in r.raw_body else reply("ok"))
    code, out, err = ctree(capsys, root, "context", "generate", "--provider", "fake")
    assert code == 1
    assert "1 failed" in out and "pkg/core.py" in out and "stopped after level 1" in out
    assert err.startswith("error: 1 node(s) failed (first: pkg/core.py") and err.count("\n") == 1
    assert CANARY not in out + err
    assert last_session(capsys, root)["status"] == "failed"
    code, out, _ = ctree(capsys, root, "context", "generate", "--provider", "fake",
                         "--keep-going")
    assert code == 1 and "2 skipped (ancestors of failures)" in out


def test_non_recursive_directory_fails_listing_missing_paths(
    capsys: pytest.CaptureFixture[str], root: Path
) -> None:
    code, _, err = ctree(capsys, root, "context", "generate", "pkg", "--no-recursive")
    assert code == 1 and "have no docs context (pkg/__init__.py, pkg/core.py" in err
    assert "drop --no-recursive" in err


def test_get_prints_the_frame_history_and_json(
    capsys: pytest.CaptureFixture[str], root: Path
) -> None:
    code, _, err = ctree(capsys, root, "context", "get", "pkg/core.py")
    assert code == 1 and err == NO_WORKSPACE_LINE
    assert not (root / ".ctree").exists(), "a read created the workspace"
    ctree(capsys, root, "context", "generate")
    code, _, err = ctree(capsys, root, "context", "get", "pkg/nothing.py")
    assert code == 1 and "pkg/nothing.py is not in the tree" in err
    generate_session = last_session(capsys, root)
    code, out, err = ctree(capsys, root, "context", "get", "pkg/core.py")
    assert code == 0 and out.startswith("# `pkg/core.py`") and err == ""
    assert last_session(capsys, root) == generate_session, "a read recorded a session"
    edit(root, "pkg/core.py", "X = 1\n")
    code, out, err = ctree(capsys, root, "context", "get", "pkg/core.py")
    assert code == 0 and "changed since the last scan" in err
    ctree(capsys, root, "context", "generate", "pkg")
    code, out, _ = ctree(capsys, root, "context", "get", "pkg/core.py", "--history")
    assert code == 0 and "#1" in out and "#2" in out and "earlier version" in out
    code, out, _ = ctree(capsys, root, "context", "get", "pkg/core.py", "--json", "--history")
    data = json.loads(out)
    assert data["current"] is True and len(data["history"]) == 2
    assert data["frame"]["frame_id"] == data["history"][-1]["frame_id"]
    assert data["frame"]["provider_name"] == "local" and data["frame"]["content"]
    code, out, _ = ctree(capsys, root, "context", "get", ".", "--agent", "docs")
    assert code == 0 and out.startswith("# `.`")


def test_agent_list_and_show(capsys: pytest.CaptureFixture[str], root: Path) -> None:
    (root / ".ctree").mkdir()
    (root / ".ctree" / "config.toml").write_text(
        '[agents.arch]\nsystem_prompt = "You are an architect."\n', encoding="utf-8")
    code, out, _ = ctree(capsys, root, "agent", "list", "--json")
    agents = json.loads(out)
    assert code == 0 and [a["id"] for a in agents] == ["docs", "arch"]
    assert agents[0]["default"] and agents[1]["frame_type"] == "context-arch"
    code, out, _ = ctree(capsys, root, "agent", "show", "arch")
    assert code == 0 and "You are an architect." in out and "context-arch" in out
    code, _, err = ctree(capsys, root, "agent", "show", "nope")
    assert code == 1 and "no agent named 'nope'" in err


def test_provider_list_show_and_test(
    capsys: pytest.CaptureFixture[str], root: Path, server: FakeLLMServer
) -> None:
    code, out, _ = ctree(capsys, root, "provider", "list")
    assert code == 0 and "local (default)" in out and "fake" in out
    assert "CTREE_CLI_TEST_KEY is set" in out and CANARY not in out
    code, out, _ = ctree(capsys, root, "provider", "show", "fake", "--json")
    shown = json.loads(out)
    assert shown["base_url"] == server.openai_base_url and CANARY not in out
    code, out, _ = ctree(capsys, root, "provider", "test", "local")
    assert code == 0 and "provider 'local' (local-summarizer-1) answered in" in out
    server.enqueue(reply("OK", input_tokens=12, output_tokens=1))
    code, out, _ = ctree(capsys, root, "provider", "test", "fake")
    assert code == 0 and "answered in" in out and "12 in / 1 out tokens: OK" in out
    sent = [e for e in events(capsys, root) if e["type"] == "provider_response_received"]
    assert sent and sent[0]["data"]["provider_name"] == "fake"
    server.enqueue(error(401, "invalid key"))
    code, out, err = ctree(capsys, root, "provider", "test", "fake")
    assert code == 1 and "HTTP 401" in err and err.count("\n") == 1
    assert server.request_count == 2, "a test never retries"
    code, _, err = ctree(capsys, root, "provider", "test", "missing")
    assert code == 1 and "no provider named 'missing'" in err


def test_status_shows_coverage_per_agent(capsys: pytest.CaptureFixture[str], root: Path) -> None:
    (root / ".ctree").mkdir()
    (root / ".ctree" / "config.toml").write_text('[agents.arch]\nfile_prompt = "Arch {path}"\n',
                                                 encoding="utf-8")
    ctree(capsys, root, "context", "generate", "pkg")
    code, out, _ = ctree(capsys, root, "status", "--json")
    coverage = json.loads(out)["coverage"]
    assert code == 0 and coverage["docs"]["covered"] == 6 and coverage["docs"]["total"] == NODES
    assert coverage["arch"]["covered"] == 0
    ctree(capsys, root, "context", "generate")
    code, out, _ = ctree(capsys, root, "status")
    (line,) = [line for line in out.splitlines() if line.startswith("coverage docs")]
    assert line.endswith(f"{NODES}/{NODES} nodes (100%)")


@pytest.mark.parametrize("behaviour", [error(503, "busy", retry_after="0"), close_connection(),
                                       delay(30.0)], ids=["503", "closed", "timeout"])
def test_provider_test_sends_exactly_one_request_whatever_goes_wrong(
    capsys: pytest.CaptureFixture[str], root: Path, server: FakeLLMServer,
    behaviour: Behaviour,
) -> None:
    config = root / ".ctree" / "config.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("timeout_s = 5",
                                                                 "timeout_s = 0.5"),
                      encoding="utf-8")
    server.enqueue(behaviour)
    code, _, err = ctree(capsys, root, "provider", "test", "fake")
    server.stop()  # no later attempt can arrive once the server is gone
    assert code == 1 and err.count("\n") == 1, err
    assert server.request_count == 1, "provider test sends one request, never a retry"


def test_provider_test_reports_a_refused_connection_without_retrying(
    capsys: pytest.CaptureFixture[str], root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    (root / ".ctree").mkdir(exist_ok=True)
    (root / ".ctree" / "config.toml").write_text(
        f'[providers.gone]\ntype = "openai"\nbase_url = "http://127.0.0.1:{closed_port}/v1"\n'
        'model = "m"\n', encoding="utf-8")
    code, _, err = ctree(capsys, root, "provider", "test", "gone")
    assert code == 1 and "cannot reach provider 'gone'" in err and err.count("\n") == 1
    attempts = [e for e in events(capsys, root) if e["type"] == "provider_request_sent"]
    assert len(attempts) == 1
    retries = [e for e in events(capsys, root) if e["type"] == "provider_request_retrying"]
    assert retries == []


def test_a_forced_regeneration_with_the_same_text_shows_as_the_newest_generation(
    capsys: pytest.CaptureFixture[str], root: Path, server: FakeLLMServer
) -> None:
    assert ctree(capsys, root, "context", "generate", "pkg/core.py")[0] == 0
    local_session = last_session(capsys, root)["session_id"]
    code, out, _ = ctree(capsys, root, "context", "get", "pkg/core.py", "--json")
    local_text = json.loads(out)["frame"]["content"]
    server.set_default(reply(local_text, input_tokens=21, output_tokens=8, model="fake-model"))
    code, _, err = ctree(capsys, root, "context", "generate", "pkg/core.py", "--force",
                         "--provider", "fake", "--no-recursive")
    assert code == 0, err
    fake_session = last_session(capsys, root)["session_id"]
    code, out, _ = ctree(capsys, root, "context", "get", "pkg/core.py", "--json", "--history")
    data = json.loads(out)
    frame, history = data["frame"], data["history"]
    assert frame["content"] == local_text and frame["provider_name"] == "fake"
    assert (frame["model"], frame["input_tokens"], frame["output_tokens"]) == ("fake-model", 21, 8)
    assert frame["session_id"] == fake_session
    assert [item["provider_name"] for item in history] == ["local", "fake"]
    assert [item["session_id"] for item in history] == [local_session, fake_session]
    assert [item["head"] for item in history] == [False, True]
    assert history[0]["frame_id"] == history[1]["frame_id"]
    code, out, _ = ctree(capsys, root, "context", "get", "pkg/core.py", "--history")
    lines = [line for line in out.splitlines() if line.startswith("#") and " · " in line]
    assert len(lines) == 2 and "fake (fake-model)" in lines[1] and lines[1].endswith("head")
    assert "local" in lines[0] and not lines[0].endswith("head")
