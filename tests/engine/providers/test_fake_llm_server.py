"""The fake LLM server's own contract, which queue tests rely on as much as provider tests."""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable

import pytest
from tests.fakes.llm_server import FakeLLMServer, block, error, reply

from contextree.engine.providers.base import GenerationRequest, Provider

ProviderFactory = Callable[..., Provider]


def post(url: str, body: dict[str, object]) -> tuple[int, dict[str, object]]:
    data = json.dumps(body).encode()
    sent = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(sent, timeout=5) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as failure:
        return failure.code, json.loads(failure.read())


def test_scripted_behaviours_run_in_order_then_the_default(llm_server: FakeLLMServer) -> None:
    llm_server.enqueue(error(500), reply("second"))
    url = llm_server.openai_base_url + "/chat/completions"

    statuses = [post(url, {"model": "m", "messages": []})[0] for _ in range(3)]

    assert statuses == [500, 200, 200]
    assert [sent.path for sent in llm_server.requests] == ["/v1/chat/completions"] * 3


def test_each_wire_gets_its_own_success_and_error_format(llm_server: FakeLLMServer) -> None:
    llm_server.enqueue(reply("hi", input_tokens=3, output_tokens=2), error(429, "later"))

    status, body = post(llm_server.url + "/v1/messages", {"model": "claude-x", "messages": []})
    error_status, error_body = post(llm_server.openai_base_url + "/chat/completions", {})

    assert status == 200
    assert body["content"] == [{"type": "text", "text": "hi"}]
    assert body["usage"] == {"input_tokens": 3, "output_tokens": 2}
    assert body["model"] == "claude-x"
    assert error_status == 429
    assert error_body["error"] == {"message": "later", "type": "fake_error", "param": None,
                                   "code": "429"}


def test_requests_are_recorded_with_lowercase_headers_and_json_body(
    llm_server: FakeLLMServer,
) -> None:
    post(llm_server.url + "/v1/messages", {"model": "m", "system": "S",
                                          "messages": [{"role": "user", "content": "U"}]})

    [sent] = llm_server.wait_for_requests(1)

    assert sent.method == "POST" and sent.wire == "anthropic"
    assert sent.headers["content-type"] == "application/json"
    assert (sent.system_prompt, sent.user_prompt) == ("S", "U")


def test_wait_for_requests_times_out_with_a_clear_error(llm_server: FakeLLMServer) -> None:
    with pytest.raises(TimeoutError, match="expected 1 requests, got 0"):
        llm_server.wait_for_requests(1, timeout=0.05)


async def test_blocked_requests_show_up_in_max_in_flight(
    llm_server: FakeLLMServer, make_provider: ProviderFactory
) -> None:
    gate = threading.Event()
    llm_server.set_default(block(gate))
    provider: Provider = make_provider("openai")
    request = GenerationRequest(
        path="a", node_type="file", system_prompt="s", user_prompt="u", file_text="",
        file_size=0, is_binary=False, truncated=False,
    )

    pending = [asyncio.create_task(provider.generate(request)) for _ in range(3)]
    await asyncio.to_thread(llm_server.wait_for_requests, 3)
    assert not any(task.done() for task in pending)
    gate.set()
    responses = await asyncio.gather(*pending)

    assert llm_server.max_in_flight == 3
    assert [response.content for response in responses] == ["generated context"] * 3
