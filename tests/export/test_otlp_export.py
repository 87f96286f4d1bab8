"""`ctree export otlp` to a real OTLP/HTTP receiver: the span tree, ids, attributes, token sums,
provider errors and retries, and idempotent re-export, on sessions made by the real
`ctree context generate`."""

from __future__ import annotations

from collections import Counter

from ulid import ULID

from tests.export.conftest import CANARY, Ctree
from tests.fakes.llm_server import FakeLLMServer, error
from tests.fakes.otlp_receiver import OtlpReceiver, ReceivedSpan

CLIENT_KIND = 3  # OTLP's SPAN_KIND_CLIENT
STATUS_ERROR = 2
TOKEN_KEYS = ("gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens",
              "llm.token_count.prompt", "llm.token_count.completion")


def by_id(spans: list[ReceivedSpan]) -> dict[str, ReceivedSpan]:
    return {span.span_id: span for span in spans}


def summary_of(ctree: Ctree) -> dict[str, object]:
    return next(e["data"] for e in ctree.events() if e["type"] == "command_summary")  # type: ignore[return-value]


def test_a_generate_session_becomes_one_trace_with_the_span_tree(
    ctree: Ctree, receiver: OtlpReceiver
) -> None:
    ctree.ok("context", "generate")
    session_id = ctree.last_session_id()
    out = ctree.ok("export", "otlp", "last", "--endpoint", receiver.base_url)
    assert "exported 1 session(s)" in out
    spans = receiver.spans
    index = by_id(spans)
    assert len(index) == len(spans)
    assert {span.trace_id for span in spans} == {ULID.from_str(session_id).bytes.hex()}
    roots = [span for span in spans if not span.parent_span_id]
    assert [root.name for root in roots] == ["ctree context generate"]
    root = roots[0]
    assert root.attributes["session.id"] == session_id
    assert root.attributes["ctree.command"] == "context.generate"
    assert root.attributes["ctree.workspace"] == str(ctree.root)
    assert '"recursive":true' in str(root.attributes["ctree.args"])
    assert root.attributes["openinference.span.kind"] == "CHAIN"
    assert root.resource["service.name"] == "contextree"
    assert all(span.parent_span_id in index for span in spans if span is not root)
    parents = {span.name: index[span.parent_span_id].name for span in spans
               if span.parent_span_id}
    assert parents["scan"] == "ctree context generate"
    assert parents["generate"] == "ctree context generate"
    assert parents["level 0"] == "generate"
    assert parents["invoke_agent docs"].startswith("level ")
    chats = [span for span in spans if span.kind == CLIENT_KIND]
    sent = [e for e in ctree.events() if e["type"] == "provider_request_sent"]
    assert len(chats) == len(sent) == 12
    for chat in chats:
        assert chat.name == f"chat {chat.attributes['gen_ai.request.model']}"
        assert index[chat.parent_span_id].name == "invoke_agent docs"
        assert chat.attributes["gen_ai.operation.name"] == "chat"
        assert chat.attributes["gen_ai.provider.name"] == "local"
        assert chat.attributes["gen_ai.response.model"]
        assert chat.attributes["openinference.span.kind"] == "LLM"
    agents = [span for span in spans if span.name == "invoke_agent docs"]
    assert len(agents) == 12
    assert all(a.attributes["gen_ai.operation.name"] == "invoke_agent" for a in agents)
    assert all(a.attributes["gen_ai.agent.name"] == "docs" for a in agents)


def test_token_counts_live_on_llm_spans_and_sum_to_the_command_summary(
    ctree: Ctree, receiver: OtlpReceiver
) -> None:
    ctree.ok("context", "generate")
    ctree.ok("export", "otlp", "last", "--endpoint", receiver.base_url)
    summary = summary_of(ctree)
    chats = [span for span in receiver.spans if span.kind == CLIENT_KIND]
    others = [span for span in receiver.spans if span.kind != CLIENT_KIND]
    assert sum(int(c.attributes["gen_ai.usage.input_tokens"]) for c in chats) == summary[
        "input_tokens"]
    assert sum(int(c.attributes["gen_ai.usage.output_tokens"]) for c in chats) == summary[
        "output_tokens"]
    assert int(str(summary["input_tokens"])) > 0
    for span in others:
        assert not any(key in span.attributes for key in TOKEN_KEYS), span.name
        for event in span.events:
            assert not any("tokens" in key for key in event.attributes), (span.name, event.name)


def test_exporting_again_sends_the_same_ids_and_no_new_span(
    ctree: Ctree, receiver: OtlpReceiver
) -> None:
    ctree.ok("context", "generate")
    ctree.ok("export", "otlp", "last", "--endpoint", receiver.base_url)
    first = sorted((s.span_id, s.parent_span_id, s.name) for s in receiver.spans)
    count = len(receiver.spans)
    ctree.ok("export", "otlp", "--all", "--endpoint", receiver.base_url)
    second = sorted((s.span_id, s.parent_span_id, s.name) for s in receiver.spans[count:])
    assert second == first
    assert {s.span_id for s in receiver.spans} == {span_id for span_id, _, _ in first}


def test_a_provider_at_a_closed_port_gives_error_type_and_retry_events(
    ctree: Ctree, receiver: OtlpReceiver, llm: FakeLLMServer
) -> None:
    code, _, _ = ctree("context", "generate", "pkg/core.py", "--provider", "down")
    assert code == 1
    ctree.ok("export", "otlp", "last", "--endpoint", receiver.base_url)
    chats = [span for span in receiver.spans if span.kind == CLIENT_KIND]
    assert len(chats) == 1
    chat = chats[0]
    assert chat.name == "chat down-model"
    assert chat.attributes["error.type"] == "connection"
    assert chat.attributes["gen_ai.provider.name"] == "openai"
    assert chat.status_code == STATUS_ERROR
    names = Counter(event.name for event in chat.events)
    attempts = sum(1 for e in ctree.events() if e["type"] == "provider_request_sent")
    assert attempts > 1
    assert names == {"attempt_failed": attempts, "retry": attempts - 1}
    assert all(e.attributes["error.type"] == "connection" for e in chat.events
               if e.name == "attempt_failed")
    root = next(span for span in receiver.spans if not span.parent_span_id)
    assert root.status_code == STATUS_ERROR
    assert not any(key in chat.attributes for key in TOKEN_KEYS)


def test_a_retried_request_is_one_span_with_its_tokens_and_no_secret(
    ctree: Ctree, receiver: OtlpReceiver, llm: FakeLLMServer
) -> None:
    llm.enqueue(error(503, "busy"))
    ctree.ok("context", "generate", "pkg/core.py", "--provider", "fake")
    ctree.ok("export", "otlp", "last", "--endpoint", receiver.base_url)
    chat = next(span for span in receiver.spans if span.kind == CLIENT_KIND)
    assert [event.name for event in chat.events] == ["attempt_failed", "retry"]
    assert chat.attributes["ctree.attempts"] == 2
    assert chat.status_code != STATUS_ERROR and "error.type" not in chat.attributes
    assert chat.attributes["gen_ai.usage.input_tokens"] == summary_of(ctree)["input_tokens"]
    wire = repr(receiver.spans)
    assert CANARY not in wire
    assert all(request.user_prompt is None or request.user_prompt not in wire
               for request in llm.requests)


def test_an_unfinished_session_is_closed_at_its_last_event_and_marked(
    ctree: Ctree, receiver: OtlpReceiver
) -> None:
    from contextree.progress import ProgressRuntime

    runtime = ProgressRuntime.open(ctree.root / ".ctree" / "store")
    try:
        session = runtime.session("context.generate", {})
        session.__enter__()
        session.emit("level_started", {"plan_id": "p", "level_index": 0, "total_levels": 1,
                                       "node_count": 1})
        runtime.flush()
        ctree.ok("export", "otlp", session.session_id, "--endpoint", receiver.base_url)
    finally:
        session.__exit__(None, None, None)
        runtime.close()
    spans = {span.name: span for span in receiver.spans}
    assert set(spans) == {"ctree context generate", "level 0"}
    root = spans["ctree context generate"]
    assert root.attributes["ctree.unfinished"] is True
    assert root.attributes["ctree.session.status"] == "active"
    assert spans["level 0"].attributes["ctree.unfinished"] is True
    assert spans["level 0"].end_ns == root.end_ns >= spans["level 0"].start_ns


def test_a_dead_endpoint_is_one_line_naming_the_fix(ctree: Ctree) -> None:
    from tests.export.conftest import closed_port

    ctree.ok("scan")
    code, _, err = ctree("export", "otlp", "last", "--timeout", "1",
                         "--endpoint", f"http://127.0.0.1:{closed_port()}")
    assert code == 1
    assert err.startswith("error: ") and err.count("\n") == 1
    assert "did not take" in err and "--endpoint" in err


def test_sessions_must_be_named(ctree: Ctree) -> None:
    ctree.ok("scan")
    code, _, err = ctree("export", "otlp")
    assert code == 1 and "--all" in err and err.count("\n") == 1
