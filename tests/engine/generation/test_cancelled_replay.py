"""A generate cancelled mid-level (what Ctrl-C does) replays as cancelled: the session, the
generation, its running level and the nodes in flight (sent or queued), beside the nodes
that completed; and people read level numbers from 1."""

from __future__ import annotations

import asyncio
import re
import threading

import pytest
from tests.fakes.llm_server import FakeLLMServer, block, reply

from contextree.cli.app import run
from contextree.engine.generation.generate import GenerateOptions, generate_context_async
from contextree.engine.workspace.layout import Workspace
from contextree.progress import ProgressRuntime
from contextree.progress.reducer import replay
from contextree.progress.state import (
    CANCELLED,
    COMPLETED,
    IN_FLIGHT_NODE_STATUSES,
    RUNNING,
    SessionState,
)

from .conftest import ConfigureProvider

COMPLETED_BEFORE_CANCEL = 3
LEVEL_0_NODES = 7  # the sample tree's deepest level


async def cancel_a_generate(workspace: Workspace, llm_server: FakeLLMServer) -> str:
    """Run a real generate in a real session, cancel it while the provider holds the fourth
    request, and end the session as Ctrl-C does; returns the session id."""
    gate = threading.Event()
    llm_server.enqueue(*[reply()] * COMPLETED_BEFORE_CANCEL, block(gate))
    try:
        with ProgressRuntime.open(workspace.store_path) as runtime:
            with pytest.raises(KeyboardInterrupt), \
                    runtime.session("context.generate", workspace=workspace.root) as session:
                task = asyncio.create_task(generate_context_async(
                    workspace, session.store, session, GenerateOptions(concurrency=1)))
                await asyncio.to_thread(llm_server.wait_for_requests,
                                        COMPLETED_BEFORE_CANCEL + 1, timeout=60)
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
                raise KeyboardInterrupt  # what asyncio.run raises after a Ctrl-C
            runtime.flush()
            return session.session_id
    finally:
        gate.set()


def stored_state(workspace: Workspace, session_id: str) -> SessionState:
    with ProgressRuntime.open(workspace.store_path) as runtime:
        return replay(runtime.store.read_events(session_id),
                      runtime.store.get_session(session_id))


async def test_a_cancelled_generate_replays_as_cancelled(
    workspace: Workspace, remote_config: ConfigureProvider, llm_server: FakeLLMServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    remote_config("openai")
    session_id = await cancel_a_generate(workspace, llm_server)

    state = stored_state(workspace, session_id)

    assert state.status == "failed" and state.error == CANCELLED
    assert state.generation_status == CANCELLED
    assert [level.status for level in state.level_list()] == [CANCELLED], "no level running"
    assert not any(level.status == RUNNING for level in state.level_list())
    statuses = [node.status for node in state.nodes.values()]
    assert statuses.count(COMPLETED) == COMPLETED_BEFORE_CANCEL
    assert statuses.count(CANCELLED) == LEVEL_0_NODES - COMPLETED_BEFORE_CANCEL, \
        "the node the provider held and those queued behind it"
    assert not IN_FLIGHT_NODE_STATUSES & set(statuses)

    capsys.readouterr()
    code = run(["-C", str(workspace.root), "sessions", "replay", session_id])
    out = capsys.readouterr().out
    assert code == 0
    level_lines = [line.strip() for line in out.splitlines() if re.match(r"\s*level \d+:", line)]
    expected = (f"level 1: {LEVEL_0_NODES} nodes, {COMPLETED_BEFORE_CANCEL} completed, "
                f"0 failed ({CANCELLED})")
    assert level_lines == [expected], out
