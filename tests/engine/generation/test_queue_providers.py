"""Real providers through the queue against the fake server, in both wire formats."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from tests.fakes.llm_server import FakeLLMServer, delay, error, garbage, reply

from contextree.engine.generation.frames import FrameStore
from contextree.engine.generation.generate import open_provider
from contextree.engine.generation.queue import (
    GenerationJob,
    GenerationQueue,
    JobFailed,
    JobResult,
    ProviderHandle,
    RetryPolicy,
)
from contextree.engine.providers.base import GenerationRequest
from contextree.progress import EventStore

from .conftest import CANARY_KEY, ConfigureProvider
from .helpers import CheckedEmitter, FakeClock

WIRES = ["openai", "anthropic"]
Run = Callable[..., Any]


@pytest.fixture
async def run_one(
    remote_config: ConfigureProvider, emitter: CheckedEmitter, clock: FakeClock,
    store: EventStore,
) -> AsyncIterator[Run]:
    """`await run_one(wire, **provider_settings)`: one job through a fresh queue."""
    handles: list[ProviderHandle] = []

    async def run(wire: str, **settings: Any) -> JobResult:
        handle = open_provider(remote_config(wire, **settings))
        handles.append(handle)
        queue = GenerationQueue(emitter, FrameStore(store), clock=clock, draw=lambda: 0.0)
        request = GenerationRequest(path="src/a.py", node_type="file", system_prompt="sys",
                                    user_prompt="Describe src/a.py", file_text="x",
                                    file_size=1, is_binary=False, truncated=False)
        job = GenerationJob(node_id="ab" * 32, path="src/a.py", node_type="file",
                            agent_id="docs", frame_type="context-docs", provider=handle,
                            build_request=lambda: request)
        try:
            return await queue.submit(job)
        finally:
            await queue.aclose()

    yield run
    for handle in handles:
        await handle.provider.aclose()


@pytest.mark.parametrize("wire", WIRES)
async def test_success_stores_the_frame_with_tokens(
    wire: str, run_one: Run, llm_server: FakeLLMServer, emitter: CheckedEmitter,
    store: EventStore,
) -> None:
    llm_server.enqueue(reply("# a.py\n\nAdds numbers.", input_tokens=42, output_tokens=9))
    result = await run_one(wire)
    frame = result.frame
    assert frame.content == "# a.py\n\nAdds numbers." and frame.model == "fake-model"
    assert (frame.input_tokens, frame.output_tokens) == (42, 9)
    assert frame.provider_name == "fake" and frame.provider_type == wire
    assert FrameStore(store).head("ab" * 32, "context-docs") == frame
    (sent,) = llm_server.requests
    assert sent.wire == wire
    (received,) = emitter.of("provider_response_received")
    assert received["input_tokens"] == 42 and received["output_tokens"] == 9
    assert received["provider_type"] == wire and received["model"] == "fake-model"


@pytest.mark.parametrize("wire", WIRES)
async def test_429_retry_after_is_honoured(
    wire: str, run_one: Run, llm_server: FakeLLMServer, emitter: CheckedEmitter,
    clock: FakeClock,
) -> None:
    llm_server.enqueue(error(429, "slow down", retry_after="3"), reply("ok"))
    result = await run_one(wire)
    assert result.attempts == 2 and llm_server.request_count == 2
    assert clock.sleeps and clock.sleeps[0] >= 3.0
    (failed,) = emitter.of("provider_request_failed")
    assert failed["error_kind"] == "rate_limit" and failed["status_code"] == 429
    assert failed["retryable"] is True
    (retrying,) = emitter.of("provider_request_retrying")
    assert retrying["attempt"] == 2 and retrying["delay_ms"] >= 3000
    assert failed["duration_ms"] < 3000, "backoff is not part of a request's duration"


@pytest.mark.parametrize("wire", WIRES)
async def test_a_proxy_s_llm_provider_retry_after_is_honoured_and_capped(
    wire: str, run_one: Run, llm_server: FakeLLMServer, clock: FakeClock,
) -> None:
    """A LiteLLM proxy sends only `llm_provider-retry-after`; an absurd hint is capped."""
    llm_server.enqueue(error(429, "slow down", headers={"llm_provider-retry-after": "60"}),
                       error(429, "slow down", headers={"llm_provider-retry-after": "86400"}),
                       reply("ok"))
    result = await run_one(wire)
    assert result.attempts == 3 and llm_server.request_count == 3
    cap = RetryPolicy().max_retry_after_s
    assert 60.0 <= clock.sleeps[0] < cap
    assert cap <= clock.sleeps[1] <= cap * 1.0625


@pytest.mark.parametrize("wire", WIRES)
async def test_5xx_then_success(
    wire: str, run_one: Run, llm_server: FakeLLMServer, emitter: CheckedEmitter,
    clock: FakeClock,
) -> None:
    llm_server.enqueue(error(500, "boom"), error(503, "busy"), reply("ok"))
    result = await run_one(wire)
    assert result.attempts == 3 and result.frame.content == "ok"
    kinds = [(f["error_kind"], f["status_code"]) for f in emitter.of("provider_request_failed")]
    assert kinds == [("server", 500), ("server", 503)]
    assert len(clock.sleeps) == 2 and clock.sleeps[1] > clock.sleeps[0]


@pytest.mark.parametrize("wire", WIRES)
async def test_401_fails_at_once(
    wire: str, run_one: Run, llm_server: FakeLLMServer, emitter: CheckedEmitter,
    clock: FakeClock,
) -> None:
    llm_server.set_default(error(401, "invalid key"))
    with pytest.raises(JobFailed, match="HTTP 401") as failure:
        await run_one(wire)
    assert failure.value.kind == "auth" and failure.value.attempts == 1
    assert llm_server.request_count == 1 and clock.sleeps == []
    (failed,) = emitter.of("provider_request_failed")
    assert failed["retryable"] is False and failed["error_kind"] == "auth"
    assert emitter.of("provider_request_retrying") == []


@pytest.mark.parametrize("wire", WIRES)
async def test_a_garbage_body_fails_cleanly(
    wire: str, run_one: Run, llm_server: FakeLLMServer, emitter: CheckedEmitter,
) -> None:
    llm_server.set_default(garbage())
    with pytest.raises(JobFailed, match="unusable response"):
        await run_one(wire)
    assert llm_server.request_count == 1
    (failed,) = emitter.of("provider_request_failed")
    assert failed["error_kind"] == "other" and failed["status_code"] == 200


@pytest.mark.parametrize("wire", WIRES)
async def test_a_timeout_is_retried(
    wire: str, run_one: Run, llm_server: FakeLLMServer, emitter: CheckedEmitter,
) -> None:
    # the timeout is long enough that the second, prompt answer arrives within it on a loaded
    # machine; the first answer comes far later than the timeout
    llm_server.enqueue(delay(8.0), reply("late but fine"))
    result = await run_one(wire, timeout_s=2.0)
    assert result.attempts == 2 and result.frame.content == "late but fine"
    (failed,) = emitter.of("provider_request_failed")
    assert failed["error_kind"] == "timeout" and failed["retryable"] is True
    assert 1_900 <= failed["duration_ms"] < 8_000


@pytest.mark.parametrize("wire", WIRES)
async def test_connection_refused_is_retried_then_fails(
    wire: str, remote_config: ConfigureProvider, emitter: CheckedEmitter, clock: FakeClock,
    store: EventStore,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}" + ("/v1" if wire == "openai" else "")
    handle = open_provider(remote_config(wire, base_url=base))
    queue = GenerationQueue(emitter, FrameStore(store), clock=clock, draw=lambda: 0.0)
    request = GenerationRequest(path="a.py", node_type="file", system_prompt="s",
                                user_prompt="u", file_text=None, file_size=0, is_binary=False,
                                truncated=False)
    job = GenerationJob(node_id="cd" * 32, path="a.py", node_type="file", agent_id="docs",
                        frame_type="context-docs", provider=handle, build_request=lambda: request)
    try:
        with pytest.raises(JobFailed, match="cannot reach provider") as failure:
            await queue.submit(job)
    finally:
        await queue.aclose()
        await handle.provider.aclose()
    assert failure.value.kind == "connection" and failure.value.attempts == 4
    assert [f["error_kind"] for f in emitter.of("provider_request_failed")] == ["connection"] * 4
    assert CANARY_KEY not in str(failure.value)
