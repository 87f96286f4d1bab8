"""The OpenAI and Anthropic providers against a real local server speaking each wire format."""

from __future__ import annotations

import asyncio
import socket
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from tests.fakes.llm_server import (
    FakeLLMServer,
    close_connection,
    delay,
    error,
    garbage,
    huge,
    reply,
)

from contextree.engine.providers.base import GenerationRequest, Provider
from contextree.engine.providers.http_errors import MAX_RESPONSE_BYTES
from contextree.errors import ProviderError

WIRES = ["openai", "anthropic"]
ProviderFactory = Callable[..., Provider]


def request(user_prompt: str = "Describe src/app.py.\n\nprint('hi')\n") -> GenerationRequest:
    return GenerationRequest(
        path="src/app.py",
        node_type="file",
        system_prompt="You write concise documentation.",
        user_prompt=user_prompt,
        file_text="print('hi')\n",
        file_size=12,
        is_binary=False,
        truncated=False,
    )


async def failure(provider: Provider) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        await provider.generate(request())
    return caught.value


# -- success --------------------------------------------------------------------------------


@pytest.mark.parametrize("wire", WIRES)
async def test_success_returns_content_model_and_token_counts(
    wire: str, make_provider: ProviderFactory, llm_server: FakeLLMServer
) -> None:
    llm_server.enqueue(
        reply("# app.py\n\nPrints a greeting.", input_tokens=42, output_tokens=9, model="served-1")
    )

    response = await make_provider(wire).generate(request())

    assert response.content == "# app.py\n\nPrints a greeting."
    assert response.model == "served-1"
    assert (response.input_tokens, response.output_tokens) == (42, 9)


async def test_openai_request_carries_model_system_and_user_messages(
    make_provider: ProviderFactory, llm_server: FakeLLMServer, canary_key: str
) -> None:
    await make_provider("openai", max_tokens=333, temperature=0.2).generate(request("USER TEXT"))

    [sent] = llm_server.requests
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {canary_key}"
    assert sent.body["model"] == "model-under-test"
    assert sent.body["messages"] == [
        {"role": "system", "content": "You write concise documentation."},
        {"role": "user", "content": "USER TEXT"},
    ]
    assert sent.body["max_tokens"] == 333
    assert sent.body["temperature"] == 0.2


async def test_anthropic_request_puts_system_prompt_in_system_and_sends_max_tokens(
    make_provider: ProviderFactory, llm_server: FakeLLMServer, canary_key: str
) -> None:
    await make_provider("anthropic", max_tokens=512).generate(request("USER TEXT"))

    [sent] = llm_server.requests
    assert sent.path == "/v1/messages"
    credential = sent.headers.get("x-api-key") or sent.headers.get("authorization", "")
    assert credential.endswith(canary_key)
    assert sent.body["model"] == "model-under-test"
    assert sent.body["system"] == "You write concise documentation."
    assert sent.body["messages"] == [{"role": "user", "content": "USER TEXT"}]
    assert sent.body["max_tokens"] == 512
    assert "temperature" not in sent.body


@pytest.mark.parametrize("wire", WIRES)
async def test_model_defaults_to_the_configured_one_when_the_answer_omits_it(
    wire: str, make_provider: ProviderFactory, llm_server: FakeLLMServer
) -> None:
    body = (
        b'{"choices":[{"message":{"content":"ok"}}]}'
        if wire == "openai"
        else b'{"content":[{"type":"text","text":"ok"}]}'
    )
    llm_server.enqueue(garbage(body, content_type="application/json"))

    response = await make_provider(wire).generate(request())

    assert response.content == "ok"
    assert response.model == "model-under-test"
    assert response.input_tokens is None and response.output_tokens is None


# -- HTTP errors ----------------------------------------------------------------------------


@pytest.mark.parametrize("wire", WIRES)
async def test_429_is_retryable_rate_limit_with_retry_after_seconds(
    wire: str, make_provider: ProviderFactory, llm_server: FakeLLMServer
) -> None:
    llm_server.enqueue(error(429, "slow down", retry_after="7"))

    err = await failure(make_provider(wire))

    assert (err.kind, err.status_code, err.retryable) == ("rate_limit", 429, True)
    assert err.retry_after_s == 7.0
    assert "slow down" in str(err)


@pytest.mark.parametrize("wire", WIRES)
async def test_retry_after_as_http_date_becomes_seconds_from_now(
    wire: str, make_provider: ProviderFactory, llm_server: FakeLLMServer
) -> None:
    when = datetime.now(UTC) + timedelta(seconds=30)
    llm_server.enqueue(error(503, retry_after=format_datetime(when, usegmt=True)))

    err = await failure(make_provider(wire))

    assert (err.kind, err.retryable) == ("server", True)
    assert err.retry_after_s is not None and 25 <= err.retry_after_s <= 31


@pytest.mark.parametrize("wire", WIRES)
@pytest.mark.parametrize("status", [500, 502, 503, 529])
async def test_5xx_is_a_retryable_server_error(
    wire: str, status: int, make_provider: ProviderFactory, llm_server: FakeLLMServer
) -> None:
    llm_server.enqueue(error(status, "upstream broke"))

    err = await failure(make_provider(wire))

    assert (err.kind, err.status_code, err.retryable) == ("server", status, True)
    assert err.retry_after_s is None
    assert llm_server.request_count == 1, "the SDK must not retry on its own"


@pytest.mark.parametrize("wire", WIRES)
@pytest.mark.parametrize(
    ("status", "kind"),
    [(401, "auth"), (403, "auth"), (404, "not_found"), (400, "bad_request"),
     (422, "bad_request"), (409, "other")],
)
async def test_client_errors_fail_at_once_with_their_kind(
    wire: str, status: int, kind: str, make_provider: ProviderFactory, llm_server: FakeLLMServer
) -> None:
    llm_server.enqueue(error(status, "you did something wrong"))

    err = await failure(make_provider(wire))

    assert (err.kind, err.status_code, err.retryable) == (kind, status, False)
    assert "you did something wrong" in str(err)
    assert llm_server.request_count == 1


@pytest.mark.parametrize("wire", WIRES)
async def test_auth_error_names_the_key_variable_and_404_names_the_model(
    wire: str, make_provider: ProviderFactory, llm_server: FakeLLMServer
) -> None:
    provider = make_provider(wire)
    llm_server.enqueue(error(401), error(404))

    auth = await failure(provider)
    missing = await failure(provider)

    assert "CTREE_TEST_LLM_KEY" in str(auth)
    assert "model-under-test" in str(missing)


# -- unusable answers -----------------------------------------------------------------------


@pytest.mark.parametrize("wire", WIRES)
@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (b"<html>upstream exploded</html>", "text/html", "not JSON"),
        (b"{not json at all", "application/json", "not JSON"),
        (b"", "application/json", "empty"),
        (b"[1, 2, 3]", "application/json", "JSON object"),
        (b'{"unexpected": true}', "application/json", "no "),
    ],
)
async def test_garbage_body_with_200_is_a_clean_provider_error(
    wire: str,
    body: bytes,
    content_type: str,
    expected: str,
    make_provider: ProviderFactory,
    llm_server: FakeLLMServer,
) -> None:
    llm_server.enqueue(garbage(body, content_type=content_type))

    err = await failure(make_provider(wire))

    assert (err.kind, err.status_code, err.retryable) == ("other", 200, False)
    assert expected in str(err)


@pytest.mark.parametrize("wire", WIRES)
async def test_answer_without_content_is_an_error(
    wire: str, make_provider: ProviderFactory, llm_server: FakeLLMServer
) -> None:
    llm_server.enqueue(reply("   "))

    err = await failure(make_provider(wire))

    assert err.kind == "other"
    assert "no" in str(err) and "content" in str(err)


@pytest.mark.parametrize("wire", WIRES)
async def test_error_object_in_a_200_body_is_reported(
    wire: str, make_provider: ProviderFactory, llm_server: FakeLLMServer
) -> None:
    llm_server.enqueue(garbage(b'{"error": {"message": "model overloaded"}}',
                               content_type="application/json"))

    err = await failure(make_provider(wire))

    assert err.kind == "other"
    assert "model overloaded" in str(err)


HUNDRED_MB = 100 * 1000 * 1000


@pytest.mark.parametrize("wire", WIRES)
async def test_a_100_mb_body_without_a_length_is_refused_after_reading_past_the_limit_only(
    wire: str, make_provider: ProviderFactory, llm_server: FakeLLMServer
) -> None:
    llm_server.enqueue(huge(HUNDRED_MB, declare_length=False))

    err = await failure(make_provider(wire))
    await asyncio.to_thread(llm_server.wait_until_idle)

    assert (err.kind, err.status_code, err.retryable) == ("other", 200, False)
    assert f"over the {MAX_RESPONSE_BYTES:,}-byte limit" in str(err)
    # what the server got out is the limit plus what the socket buffers held: far from 100 MB
    assert MAX_RESPONSE_BYTES < llm_server.bytes_served < 8 * MAX_RESPONSE_BYTES


@pytest.mark.parametrize("wire", WIRES)
async def test_a_declared_100_mb_body_is_refused_before_reading_it(
    wire: str, make_provider: ProviderFactory, llm_server: FakeLLMServer
) -> None:
    llm_server.enqueue(huge(HUNDRED_MB))

    err = await failure(make_provider(wire))
    await asyncio.to_thread(llm_server.wait_until_idle)

    assert f"the response is {HUNDRED_MB:,} bytes, over the" in str(err)
    assert llm_server.bytes_served < 4 * MAX_RESPONSE_BYTES


# -- transport failures ---------------------------------------------------------------------


@pytest.mark.parametrize("wire", WIRES)
async def test_slow_server_times_out_as_retryable_timeout(
    wire: str, make_provider: ProviderFactory, llm_server: FakeLLMServer
) -> None:
    llm_server.enqueue(delay(2.0))
    provider = make_provider(wire, timeout_s=0.3)

    started = time.monotonic()
    err = await failure(provider)
    elapsed = time.monotonic() - started

    assert (err.kind, err.retryable, err.status_code) == ("timeout", True, None)
    assert elapsed < 1.5, "the client's timeout must fire before the server answers"
    assert "0.3s" in str(err)


@pytest.mark.parametrize("wire", WIRES)
async def test_connection_closed_without_response_is_a_connection_error(
    wire: str, make_provider: ProviderFactory, llm_server: FakeLLMServer
) -> None:
    llm_server.enqueue(close_connection())

    err = await failure(make_provider(wire))

    assert (err.kind, err.retryable) == ("connection", True)
    assert llm_server.request_count == 1


@pytest.mark.parametrize("wire", WIRES)
async def test_connection_refused_is_a_retryable_connection_error(
    wire: str, make_provider: ProviderFactory
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    base_url = f"http://127.0.0.1:{closed_port}" + ("/v1" if wire == "openai" else "")

    err = await failure(make_provider(wire, base_url=base_url))

    assert (err.kind, err.retryable, err.status_code) == ("connection", True, None)
    assert str(closed_port) in str(err)


# -- the key never leaks --------------------------------------------------------------------


def _holds_part_of(text: str, key: str, width: int = 12) -> bool:
    return any(key[start : start + width] in text for start in range(len(key) - width + 1))


def _echoing_behaviours(key: str) -> list[Any]:
    return [
        error(401, f"Incorrect API key provided: {key}"),
        error(429, f"key {key} is over quota", retry_after="1"),
        error(500, f"Authorization: Bearer {key}"),
        garbage(f"<html>bad key {key}</html>".encode()),
        error(400, "x" * 280 + key),
        garbage(("y" * 60 + key).encode()),
        garbage(f'{{"error": {{"message": "key {key} revoked"}}}}'.encode(),
                content_type="application/json"),
    ]


@pytest.mark.parametrize("wire", WIRES)
async def test_api_key_never_appears_in_errors_even_when_the_server_echoes_it(
    wire: str, make_provider: ProviderFactory, llm_server: FakeLLMServer, canary_key: str
) -> None:
    behaviours = _echoing_behaviours(canary_key)
    llm_server.enqueue(*behaviours)
    provider = make_provider(wire)

    errors = [await failure(provider) for _ in behaviours]

    assert all(canary_key in str(sent.headers) for sent in llm_server.requests)
    for err in errors:
        shown = "".join(traceback.format_exception(err))
        for text in (str(err), repr(err), repr(vars(err)), shown):
            assert not _holds_part_of(text, canary_key), text
    assert canary_key not in repr(provider) and canary_key not in str(provider)
    assert "[redacted]" in str(errors[0])


@pytest.mark.parametrize("wire", WIRES)
async def test_concurrent_requests_are_all_answered(
    wire: str, make_provider: ProviderFactory, llm_server: FakeLLMServer
) -> None:
    llm_server.set_default(lambda sent: reply(f"echo: {sent.user_prompt}"))
    provider = make_provider(wire)

    prompts = [f"prompt number {index}" for index in range(6)]
    responses = await asyncio.gather(*(provider.generate(request(p)) for p in prompts))

    for prompt, response in zip(prompts, responses, strict=True):
        assert response.content == f"echo: {prompt}"
    assert llm_server.request_count == 6
    assert {sent.system_prompt for sent in llm_server.requests} == {
        "You write concise documentation."
    }
