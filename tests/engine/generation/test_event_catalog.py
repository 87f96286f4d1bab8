"""Every event type generation emits carries the SPEC §4 required fields.

One scenario drives every path (a failed and a passed descendant check, retries, a permanent
failure with --keep-going, head reuse, a joined request), and the checked emitter fails on
the first event missing a field.
"""

from __future__ import annotations

import asyncio

import pytest
from tests.fakes.llm_server import FakeLLMServer, RecordedRequest, error, reply

from contextree.engine.generation.frames import FrameStore
from contextree.engine.generation.generate import GenerateOptions, generate_context_async
from contextree.engine.generation.queue import GenerationJob, GenerationQueue
from contextree.engine.providers.base import GenerationRequest
from contextree.engine.workspace.layout import Workspace
from contextree.errors import GenerationError
from contextree.progress import EventStore
from contextree.progress.catalog import EVENT_CATALOG

from .conftest import ConfigureProvider
from .helpers import (
    GENERATION_EVENT_TYPES,
    CheckedEmitter,
    FakeClock,
    ScriptedProvider,
    scripted_handle,
)


async def test_every_generation_event_type_is_emitted_with_its_required_fields(
    workspace: Workspace, store: EventStore, emitter: CheckedEmitter, clock: FakeClock,
    remote_config: ConfigureProvider, llm_server: FakeLLMServer,
) -> None:
    async def generate(**options: object) -> None:
        await generate_context_async(workspace, store, emitter,
                                     GenerateOptions(**options),  # type: ignore[arg-type]
                                     clock=clock)

    with pytest.raises(GenerationError):
        await generate(path="pkg", recursive=False)
    remote_config("openai")

    def script(request: RecordedRequest) -> object:
        return error(401, "no") if b"Describe pkg/core.py" in request.raw_body else reply("ok")

    llm_server.enqueue(error(503, "busy"))
    llm_server.set_default(script)  # type: ignore[arg-type]
    await generate(keep_going=True)
    llm_server.set_default(reply("ok"))
    await generate()
    await generate(path="pkg/util", recursive=False, force=True)

    provider = ScriptedProvider()
    provider.gate = asyncio.Event()
    queue = GenerationQueue(emitter, FrameStore(store), clock=clock)
    request = GenerationRequest(path="x.py", node_type="file", system_prompt="s",
                                user_prompt="u", file_text="x", file_size=1, is_binary=False,
                                truncated=False)
    job = GenerationJob(node_id="ee" * 32, path="x.py", node_type="file", agent_id="docs",
                        frame_type="context-docs", provider=scripted_handle(provider),
                        build_request=lambda: request)
    first, second = queue.submit(job), queue.submit(job)
    provider.gate.set()
    await asyncio.gather(first, second)
    await queue.aclose()

    emitted = set(emitter.types())
    assert emitted >= GENERATION_EVENT_TYPES
    assert set(EVENT_CATALOG) >= GENERATION_EVENT_TYPES
    reasons = {data["reason"] for data in emitter.of("node_skipped")}
    assert reasons == {"head_reuse", "parent_of_failed"}
    for event_type, data in emitter.events:
        for identity in ("plan_id", "node_id", "path", "agent_id", "frame_type"):
            if event_type.startswith("node_generation_"):
                assert identity in data, f"{event_type} lacks {identity}"
