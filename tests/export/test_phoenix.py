"""End to end against a real Arize Phoenix (`slow`; skipped when Phoenix is not available).

Phoenix is found through `CTREE_PHOENIX_BIN` (the `phoenix` script of the virtualenv it is
installed in, kept apart from the project's own) or, failing that, as an importable package.
One `phoenix serve` per module listens on a free 127.0.0.1 port with a temporary working
directory; the tests export real sessions over OTLP/HTTP and read them back through Phoenix's
REST API (`GET /v1/projects/{project}/spans`) and GraphQL: the trace id is the session id,
the span tree is the one sent, chat spans are LLM spans whose tokens sum to what `ctree
sessions show` gives (Phoenix's own roll-up on the root agrees), failures show, a second
export adds nothing, and the `--follow` bridge ships a session while it runs.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from ulid import ULID

from tests.export.conftest import CANARY, Ctree, closed_port
from tests.export.test_follow_bridge import BridgeProcess
from tests.fakes.llm_server import FakeLLMServer, block, error
from tests.fakes.otlp_receiver import OtlpReceiver

PHOENIX_BIN_ENV = "CTREE_PHOENIX_BIN"
PROJECT = "contextree"
"""The project the export names in `openinference.project.name`."""
READY_TIMEOUT_S = 300.0
INGEST_TIMEOUT_S = 120.0
POLL_INTERVAL_S = 0.1
TOKEN_PROMPT, TOKEN_COMPLETION = "llm.token_count.prompt", "llm.token_count.completion"

Span = dict[str, Any]
"""A span as Phoenix's REST API returns it (JSON)."""
T = TypeVar("T")


def phoenix_command() -> list[str] | None:
    """How to run `phoenix serve`: the script `CTREE_PHOENIX_BIN` names, else this Python's
    package; None when neither is there."""
    configured = os.environ.get(PHOENIX_BIN_ENV)
    if configured:
        return [configured, "serve"]
    if importlib.util.find_spec("phoenix") is not None:
        return [sys.executable, "-m", "phoenix.server.main", "serve"]
    return None


COMMAND = phoenix_command()

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(COMMAND is None, reason=(
        f"Arize Phoenix is not available: set {PHOENIX_BIN_ENV} to the `phoenix` script of a "
        "virtualenv with arize-phoenix installed (see the README)")),
]


class Phoenix:
    """A running Phoenix, read through its REST API and GraphQL."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.traces_url = base_url + "/v1/traces"

    def get(self, path: str, **query: str) -> dict[str, Any]:
        url = f"{self.base_url}{path}?{urllib.parse.urlencode(query, doseq=True)}"
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                return dict(json.loads(response.read()))
        except urllib.error.HTTPError as failure:
            if failure.code == 404:  # the project does not exist yet
                return {"data": []}
            raise

    def spans(self, trace_id: str, project: str = PROJECT) -> list[Span]:
        body = self.get(f"/v1/projects/{project}/spans", trace_id=trace_id, limit="1000")
        return list(body["data"])

    def trace_ids(self, name: str, project: str = PROJECT) -> set[str]:
        """The traces holding a span called `name`."""
        body = self.get(f"/v1/projects/{project}/spans", name=name, limit="1000")
        return {span["context"]["trace_id"] for span in body["data"]}

    def wait_for_spans(self, trace_id: str, count: int) -> list[Span]:
        """The trace's spans once Phoenix has stored `count` of them (it ingests in the
        background, after answering the export)."""
        return _poll(lambda: self.spans(trace_id), lambda spans: len(spans) >= count,
                     f"{count} spans of trace {trace_id}")

    def graphql(self, query: str, **variables: str) -> dict[str, Any]:
        request = urllib.request.Request(
            self.base_url + "/graphql", method="POST",
            data=json.dumps({"query": query, "variables": variables}).encode(),
            headers={"content-type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            body = json.loads(response.read())
        assert not body.get("errors"), body["errors"]
        return dict(body["data"])

    def cumulative_tokens(self, span: Span) -> tuple[float, float]:
        """Phoenix's own roll-up of token counts under `span` (prompt, completion)."""
        node = self.graphql(
            "query ($id: ID!) { node(id: $id) { ... on Span { "
            "cumulativeTokenCountPrompt cumulativeTokenCountCompletion } } }",
            id=str(span["id"]))["node"]
        return node["cumulativeTokenCountPrompt"], node["cumulativeTokenCountCompletion"]


def _poll(fetch: Callable[[], T], done: Callable[[T], bool], what: str,
             timeout: float = INGEST_TIMEOUT_S) -> T:
    """`fetch()` again until `done` accepts it (Phoenix offers nothing to wait on)."""
    pause, deadline = threading.Event(), time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fetch()
        if done(value):
            return value
        pause.wait(POLL_INTERVAL_S)
    raise AssertionError(f"Phoenix did not show {what} within {timeout:.0f}s")


def _ready(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(base_url + "/readyz", timeout=5) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@pytest.fixture(scope="module")
def phoenix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Phoenix]:
    assert COMMAND is not None
    if os.sep in COMMAND[0] and not os.access(COMMAND[0], os.X_OK):
        pytest.fail(f"{PHOENIX_BIN_ENV}={COMMAND[0]} is not an executable — point it at the "
                    "`phoenix` script of the virtualenv where arize-phoenix is installed")
    working_dir = tmp_path_factory.mktemp("phoenix")
    port = closed_port()
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("PHOENIX_", "OTEL_"))}
    env |= {"PHOENIX_WORKING_DIR": str(working_dir), "PHOENIX_HOST": "127.0.0.1",
            "PHOENIX_PORT": str(port), "PHOENIX_GRPC_PORT": str(closed_port()),
            "PHOENIX_TELEMETRY_ENABLED": "false", "PHOENIX_ALLOW_EXTERNAL_RESOURCES": "false"}
    log_path = working_dir / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(COMMAND, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   cwd=working_dir, start_new_session=True)
    server = Phoenix(f"http://127.0.0.1:{port}")
    try:
        _poll(lambda: process.poll() is not None or _ready(server.base_url), bool,
              "readiness", READY_TIMEOUT_S)
        assert process.poll() is None, f"phoenix serve exited: {_tail(log_path)}"
        yield server
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _tail(path: Path, lines: int = 20) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


# -- helpers on sessions --------------------------------------------------------------------


def trace_id_of(session_id: str) -> str:
    return ULID.from_str(session_id).bytes.hex()


def export(ctree: Ctree, endpoint: str, *refs: str) -> int:
    """`ctree export otlp REFS --endpoint …`; the number of spans it says it sent."""
    out = ctree.ok("export", "otlp", *refs, "--endpoint", endpoint)
    match = re.search(r"→ ([\d,]+) spans", out)
    assert match, out
    return int(match.group(1).replace(",", ""))


def provider_counts(ctree: Ctree, ref: str = "last") -> dict[str, int]:
    """The provider counts `ctree sessions show` gives (requests, retries, tokens…)."""
    counts: dict[str, int] = json.loads(ctree.ok("sessions", "show", ref, "--json"))[
        "state"]["provider"]
    return counts


def shown_tokens(ctree: Ctree, ref: str = "last") -> tuple[int, int]:
    counts = provider_counts(ctree, ref)
    return counts["input_tokens"], counts["output_tokens"]


def tokens_of(spans: list[Span]) -> tuple[int, int]:
    """Token sums over the LLM spans, as Phoenix derived them from `gen_ai.usage.*`."""
    llm = [span["attributes"] for span in spans if span["span_kind"] == "LLM"]
    return (sum(int(a.get(TOKEN_PROMPT, 0)) for a in llm),
            sum(int(a.get(TOKEN_COMPLETION, 0)) for a in llm))


def root_of(spans: list[Span]) -> Span:
    roots = [span for span in spans if span["parent_id"] is None]
    assert len(roots) == 1, [span["name"] for span in roots]
    return roots[0]


# -- the tests -------------------------------------------------------------------------------


def test_a_generate_session_is_one_trace_with_its_tree_kinds_and_tokens(
    ctree: Ctree, phoenix: Phoenix, receiver: OtlpReceiver
) -> None:
    ctree.ok("context", "generate")
    session_id = ctree.last_session_id()
    trace_id = trace_id_of(session_id)
    sent = export(ctree, phoenix.traces_url, "last")
    spans = phoenix.wait_for_spans(trace_id, sent)
    assert len(spans) == sent

    export(ctree, receiver.base_url, "last")  # what went over the wire, for comparison
    wire = {(s.span_id, s.parent_span_id or None, s.name) for s in receiver.spans}
    assert {(s["context"]["span_id"], s["parent_id"], s["name"])
            for s in spans} == wire
    assert {s["context"]["trace_id"] for s in spans} == {trace_id}

    root = root_of(spans)
    assert root["name"] == "ctree context generate"
    assert root["attributes"]["session.id"] == session_id
    assert root["status_code"] == "OK"
    names = {s["context"]["span_id"]: s["name"] for s in spans}
    kinds = {s["name"]: s["span_kind"] for s in spans}
    assert kinds["ctree context generate"] == kinds["generate"] == kinds["scan"] == "CHAIN"
    assert kinds["invoke_agent docs"] == "AGENT"
    chats = [s for s in spans if str(s["name"]).startswith("chat ")]
    assert len(chats) == 12
    assert {s["span_kind"] for s in chats} == {"LLM"}
    assert all(names[s["parent_id"]] == "invoke_agent docs" for s in chats)
    assert {s["attributes"]["llm.model_name"] for s in chats} == {
        s["attributes"]["gen_ai.request.model"] for s in chats}

    tokens = shown_tokens(ctree)
    assert tokens_of(spans) == tokens and tokens[0] > 0
    others = [s for s in spans if s["span_kind"] != "LLM"]
    assert not any(key.startswith("llm.token_count") for s in others
                   for key in s["attributes"])
    assert phoenix.cumulative_tokens(root) == tokens  # no parent counted twice


def test_exporting_again_adds_no_span(ctree: Ctree, phoenix: Phoenix) -> None:
    ctree.ok("context", "generate")
    first = ctree.last_session_id()
    sent = export(ctree, phoenix.traces_url, "last")
    before = phoenix.wait_for_spans(trace_id_of(first), sent)
    ctree.ok("scan")
    marker = ctree.last_session_id()
    # One request carries the re-sent session, then the new one: once Phoenix shows the new
    # session, it has processed the re-sent spans before it.
    assert export(ctree, phoenix.traces_url, first, marker) > sent
    phoenix.wait_for_spans(trace_id_of(marker), 1)
    after = phoenix.spans(trace_id_of(first))
    assert sorted(s["id"] for s in after) == sorted(s["id"] for s in before)
    assert phoenix.cumulative_tokens(root_of(after)) == phoenix.cumulative_tokens(
        root_of(before))


def test_provider_errors_and_retries_show_with_their_tokens(
    ctree: Ctree, phoenix: Phoenix, llm: FakeLLMServer
) -> None:
    llm.enqueue(error(429, "slow down", retry_after="0"), error(500, "boom"),
                error(400, "bad request"))
    code, _, _ = ctree("context", "generate", "--provider", "fake", "--keep-going",
                       "--concurrency", "1")
    assert code == 1  # one node failed
    session_id = ctree.last_session_id()
    sent = export(ctree, phoenix.traces_url, "last")
    spans = phoenix.wait_for_spans(trace_id_of(session_id), sent)

    chats = [s for s in spans if s["span_kind"] == "LLM"]
    failed = [s for s in chats if s["status_code"] == "ERROR"]
    assert len(failed) == 1
    assert failed[0]["attributes"]["error.type"] == "bad_request"
    assert "HTTP 400" in str(failed[0]["status_message"])
    assert TOKEN_PROMPT not in failed[0]["attributes"]
    retried = [s for s in chats if s["attributes"]["ctree.attempts"] == 2]
    assert len(retried) == 2
    for span in retried:
        assert span["status_code"] == "OK"
        assert [e["name"] for e in span["events"]] == ["attempt_failed", "retry"]
    kinds = {s["events"][0]["attributes"]["error.type"] for s in retried}
    assert kinds == {"rate_limit", "server"}
    root = root_of(spans)
    assert root["status_code"] == "ERROR"
    assert "1 node(s) failed" in str(root["status_message"])
    counts = provider_counts(ctree)
    assert tokens_of(spans) == (counts["input_tokens"], counts["output_tokens"])
    assert sum(len(s["events"]) for s in chats) == counts["failures"] + counts["retries"]
    assert CANARY not in json.dumps(spans)


def test_the_follow_bridge_ships_a_session_while_it_runs(
    ctree: Ctree, phoenix: Phoenix, llm: FakeLLMServer
) -> None:
    ctree.ok("init")
    bridge = BridgeProcess(ctree.root, phoenix.traces_url)
    try:
        bridge.wait_for_line("following")
        earlier = phoenix.trace_ids("scan")
        gate = threading.Event()
        llm.enqueue(block(gate))
        generate = threading.Thread(target=ctree, args=(
            "context", "generate", "pkg/core.py", "--provider", "fake"))
        generate.start()
        try:
            llm.wait_for_requests(1)
            # the session's scan span reaches Phoenix while its request is held
            try:
                (trace_id,) = _poll(lambda: phoenix.trace_ids("scan") - earlier, bool,
                                    "the running session's scan span")
            except AssertionError as exc:
                bridge.process.terminate()
                rest = bridge.process.communicate(timeout=60)[1]
                raise AssertionError(f"{exc}; the bridge said: {bridge.lines} {rest}") from None
            assert not any(s["parent_id"] is None for s in phoenix.spans(trace_id))
        finally:
            gate.set()
            generate.join()
        session_id = ctree.last_session_id()
        assert trace_id == trace_id_of(session_id)
        spans = _poll(lambda: phoenix.spans(trace_id),
                      lambda spans: any(s["parent_id"] is None for s in spans), "the root")
        assert bridge.stop() == 0
    finally:
        if bridge.process.poll() is None:
            bridge.process.kill()
            bridge.process.wait()
    assert {"scan", "generate", "chat fake-model"} <= {s["name"] for s in spans}
    assert tokens_of(spans) == shown_tokens(ctree)
    assert len(spans) == export(ctree, phoenix.traces_url, session_id)
