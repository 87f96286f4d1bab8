"""Secrets: canary keys from every source never reach the store, the logs or an export.

Canaries sit in the environment (a provider's `api_key_env`), in the user's config file
(`api_key`), in a base URL's userinfo (`http://user:CANARY@…`), and come back from the
provider: the fake server echoes every credential header in its error bodies and in its
replies. Generation and `provider test` run against it with `--verbose`; then the raw bytes
of the store file, every stderr, and every export (`sessions events`, `sessions replay
--json`, `sessions show --json`, `sessions list --json`, `context get --json`, `status
--json`) are searched for each canary in clear and in the encodings a header would carry.
Prompts and responses stay out of events: a marker in a file's text reaches the provider
(it is in the prompt) and a marker in the reply reaches the frame, but neither is in any
event.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from contextree.progress import EventStore
from tests.fakes.llm_server import FakeLLMServer, RecordedRequest, error, reply
from tests.reliability.figures import report_figures
from tests.reliability.forked import CliResult, run_cli

ENV_KEY = "sk-envcanary-" + secrets.token_hex(12)
USER_KEY = "sk-ant-usercanary-" + secrets.token_hex(12)
URL_PASSWORD = "urlcanary" + secrets.token_hex(10)
URL_USER = "ctree"
KEY_VARIABLE = "CTREE_CANARY_LLM_KEY"
PROMPT_MARKER = "PROMPTMARKER" + secrets.token_hex(8)
RESPONSE_MARKER = "RESPONSEMARKER" + secrets.token_hex(8)


def _canary_forms() -> dict[str, list[bytes]]:
    basic = base64.b64encode(f"{URL_USER}:{URL_PASSWORD}".encode())
    return {
        "environment key": [ENV_KEY.encode(), base64.b64encode(ENV_KEY.encode())],
        "user-config key": [USER_KEY.encode(), base64.b64encode(USER_KEY.encode())],
        "URL password": [URL_PASSWORD.encode(), basic],
    }


def _credentials(request: RecordedRequest) -> str:
    headers = request.headers
    return (f"authorization={headers.get('authorization')} "
            f"x-api-key={headers.get('x-api-key')}")


def _behave(request: RecordedRequest) -> object:
    body = request.body if isinstance(request.body, dict) else {}
    if body.get("model") == "echo-error":
        return error(401, f"invalid credentials {_credentials(request)}")
    return reply(f"# Context\n\n{RESPONSE_MARKER}: seen {_credentials(request)}\n")


@dataclass
class Outputs:
    """Everything the commands wrote, by where it went."""

    stderr: list[tuple[str, str]] = field(default_factory=list)
    exports: list[tuple[str, str]] = field(default_factory=list)
    requests: list[RecordedRequest] = field(default_factory=list)


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Outputs, Path]]:
    root = tmp_path_factory.mktemp("secrets")
    workspace, home = root / "ws", root / "home"
    (workspace / "src").mkdir(parents=True)
    (workspace / "src" / "module.py").write_text(
        f'"""Holds {PROMPT_MARKER}."""\n\nVALUE = "{PROMPT_MARKER}"\n', encoding="utf-8")
    (workspace / "README.md").write_text("# Project\n", encoding="utf-8")
    home.mkdir()
    (home / "config.toml").write_text(f'[providers.userllm]\napi_key = "{USER_KEY}"\n',
                                      encoding="utf-8")
    collected = Outputs()
    with FakeLLMServer() as server:
        server.set_default(_behave)  # type: ignore[arg-type]
        _write_workspace_config(workspace, server)
        env = {KEY_VARIABLE: ENV_KEY, "CTREE_HOME": str(home), "CTREE_STORE": None,
               "OPENAI_API_KEY": None, "ANTHROPIC_API_KEY": None}
        base = ["-C", str(workspace), "-v"]
        for args, expected in [
            (["context", "generate", "--provider", "envllm"], 0),
            (["context", "generate", "--provider", "userllm", "--force"], 0),
            (["context", "generate", "--provider", "echollm", "--force", "--keep-going"], 1),
            (["context", "generate", "--provider", "urlllm", "--force", "--keep-going"], 1),
            (["provider", "test", "envllm"], 0),
            (["provider", "test", "userllm"], 0),
            (["provider", "test", "echollm"], 1),
            (["provider", "test", "urlllm"], 1),
        ]:
            result = run_cli([*base, *args], env=env)
            assert result.code == expected, (args, result.stderr[-2000:])
            collected.stderr.append((" ".join(args), result.stderr))
            collected.exports.append((" ".join(args) + " (stdout)", result.stdout))
        collected.requests = server.requests
        for args in _export_commands(workspace):
            result = run_cli(["-C", str(workspace), *args], env=env)
            assert result.code == 0, (args, result.stderr)
            collected.exports.append((" ".join(args), result.stdout))
            collected.stderr.append((" ".join(args), result.stderr))
    yield collected, workspace


def _write_workspace_config(workspace: Path, server: FakeLLMServer) -> None:
    userinfo_url = server.openai_base_url.replace("//", f"//{URL_USER}:{URL_PASSWORD}@", 1)
    (workspace / ".ctree").mkdir(exist_ok=True)
    (workspace / ".ctree" / "config.toml").write_text(f"""\
[providers.envllm]
type = "openai"
model = "echo-reply"
base_url = "{server.openai_base_url}"
api_key_env = "{KEY_VARIABLE}"

[providers.echollm]
type = "openai"
model = "echo-error"
base_url = "{server.openai_base_url}"
api_key_env = "{KEY_VARIABLE}"

[providers.userllm]
type = "anthropic"
model = "echo-reply"
base_url = "{server.url}"

[providers.urlllm]
type = "openai"
model = "echo-error"
base_url = "{userinfo_url}"
api_key_env = "{KEY_VARIABLE}"
""", encoding="utf-8")


def _export_commands(workspace: Path) -> list[list[str]]:
    store = EventStore.open(workspace / ".ctree" / "store", create=False)
    try:
        ids = [record.session_id for record in store.list_sessions()]
    finally:
        store.close()
    commands = [["sessions", "list", "--json"], ["status", "--json"],
                ["context", "get", "src/module.py", "--json", "--history"],
                ["context", "get", ".", "--json", "--history"]]
    for session_id in ids:
        commands += [["sessions", "events", session_id],
                     ["sessions", "replay", session_id, "--json"],
                     ["sessions", "show", session_id, "--json"]]
    return commands


def _found(data: bytes) -> list[str]:
    return [name for name, forms in _canary_forms().items() if any(f in data for f in forms)]


def test_the_canaries_were_really_sent_and_echoed(outputs: tuple[Outputs, Path]) -> None:
    """The test means something only if every canary went over the wire and came back."""
    collected, _ = outputs
    sent = " ".join(_credentials(request) for request in collected.requests)
    assert ENV_KEY in sent
    assert USER_KEY in sent
    assert base64.b64encode(f"{URL_USER}:{URL_PASSWORD}".encode()).decode() in sent
    assert any(PROMPT_MARKER in (request.user_prompt or "") for request in collected.requests)


def test_no_canary_in_the_store_file(outputs: tuple[Outputs, Path]) -> None:
    _, workspace = outputs
    data = (workspace / ".ctree" / "store" / "data.mdb").read_bytes()
    assert _found(data) == []
    assert RESPONSE_MARKER.encode() in data  # the frames are there: the scan looked at them


def test_no_canary_in_the_logs(outputs: tuple[Outputs, Path]) -> None:
    collected, _ = outputs
    leaks = [(command, _found(text.encode())) for command, text in collected.stderr]
    assert [leak for leak in leaks if leak[1]] == []
    assert any("DEBUG" in text for _, text in collected.stderr), "--verbose logged nothing"


def test_no_canary_in_any_export_or_output(outputs: tuple[Outputs, Path]) -> None:
    collected, _ = outputs
    leaks = [(command, _found(text.encode())) for command, text in collected.exports]
    assert [leak for leak in leaks if leak[1]] == []
    report_figures("secrets", canaries=len(_canary_forms()), requests=len(collected.requests),
                   logs_scanned=len(collected.stderr), exports_scanned=len(collected.exports),
                   leaks=0)


def test_prompts_and_responses_stay_out_of_events(outputs: tuple[Outputs, Path]) -> None:
    _, workspace = outputs
    store = EventStore.open(workspace / ".ctree" / "store", create=False)
    try:
        with store.read() as txn:
            values = [bytes(value) for db in (store.events_db, store.sessions_db, store.meta_db)
                      for _, value in txn.cursor(db=db)]
    finally:
        store.close()
    assert values
    assert not any(PROMPT_MARKER.encode() in value for value in values)
    assert not any(RESPONSE_MARKER.encode() in value for value in values)


def test_a_userinfo_password_is_not_printed_by_provider_show(
    outputs: tuple[Outputs, Path],
) -> None:
    _, workspace = outputs
    for args in (["provider", "show", "urlllm", "--json"], ["provider", "list", "--json"],
                 ["provider", "list"], ["provider", "show", "urlllm"]):
        result: CliResult = run_cli(["-C", str(workspace), *args])
        assert result.code == 0, result.stderr
        assert _found(result.stdout.encode()) == [], args
        assert "urlllm" in result.stdout
