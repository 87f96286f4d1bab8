"""Generation end to end on a real workspace and store: plans, reuse, incremental runs,
failure policies, the descendant check, and the state the reducer rebuilds."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import pytest
from tests.fakes.llm_server import FakeLLMServer, RecordedRequest, error, reply

from contextree.engine.generation.frames import FrameStore
from contextree.engine.generation.generate import GenerateOptions, generate_context_async
from contextree.engine.generation.orchestrator import GenerationOutcome
from contextree.engine.workspace.layout import Workspace
from contextree.engine.workspace.tree import ROOT, TreeStore
from contextree.errors import GenerationError, WorkspaceError
from contextree.progress import EventStore, ProgressRuntime
from contextree.progress.reducer import replay
from contextree.progress.state import COMPLETED

from .conftest import ConfigureProvider
from .helpers import CheckedEmitter, FakeClock, edit

ALL_NODES = {".", "README.md", "assets", "assets/logo.png", "docs", "docs/guide.md", "pkg",
             "pkg/__init__.py", "pkg/core.py", "pkg/util", "pkg/util/numbers.py",
             "pkg/util/strings.py"}


async def generate(workspace: Workspace, store: Any, emitter: Any, **options: Any
                   ) -> GenerationOutcome:
    clock = options.pop("clock", None)
    return await generate_context_async(workspace, store, emitter, GenerateOptions(**options),
                                        clock=clock)


async def test_the_whole_workspace_gets_a_frame_per_node(
    workspace: Workspace, store: EventStore, emitter: CheckedEmitter
) -> None:
    outcome = await generate(workspace, store, emitter)
    assert outcome.ok and outcome.generated == len(ALL_NODES) == outcome.total_nodes
    records = TreeStore(store).load_records()
    assert set(records) == ALL_NODES
    frames = FrameStore(store)
    heads = frames.heads((r.id for r in records.values()), "context-docs")
    assert {record.path for record in records.values() if record.id in heads} == ALL_NODES
    assert "def add(a: int, b: int)" in heads[records["pkg/core.py"].id].content
    assert "core.py" in heads[records["pkg"].id].content, "directories read children's frames"
    (plan,) = emitter.of("plan_constructed")
    assert plan["path"] == "." and plan["agent_id"] == "docs" and plan["provider_name"] == "local"
    assert plan["model"] == "local-summarizer-1" and plan["frame_type"] == "context-docs"
    assert plan["total_levels"] == 4 and plan["skipped_count"] == 0
    types = emitter.types()
    assert types.index("scan_completed") < types.index("plan_constructed")
    assert types.index("plan_constructed") < types.index("generation_started")
    assert [t for t in types if t != "queue_stats"][-1] == "generation_completed"
    levels = [(e["level_index"], e["node_count"]) for e in emitter.of("level_started")]
    assert levels == [(0, 7), (1, 3), (2, 1), (3, 1)]
    assert emitter.paths("node_generation_completed") == ALL_NODES


async def test_a_second_run_regenerates_nothing(
    workspace: Workspace, store: EventStore, emitter: CheckedEmitter
) -> None:
    await generate(workspace, store, CheckedEmitter())
    outcome = await generate(workspace, store, emitter)
    assert outcome.ok and outcome.generated == 0 and outcome.reused == len(ALL_NODES)
    assert emitter.paths("node_skipped", reason="head_reuse") == ALL_NODES
    assert emitter.of("provider_request_sent") == []
    (completed,) = emitter.of("generation_completed")
    assert completed["total_generated"] == 0 and completed["total_skipped"] == len(ALL_NODES)


async def test_editing_one_file_regenerates_it_and_its_ancestors_only(
    workspace: Workspace, store: EventStore, emitter: CheckedEmitter
) -> None:
    await generate(workspace, store, CheckedEmitter())
    edit(workspace.root, "pkg/util/strings.py", '"""Louder strings."""\n\nX = 1\n')
    outcome = await generate(workspace, store, emitter)
    expected = {"pkg/util/strings.py", "pkg/util", "pkg", "."}
    assert emitter.paths("node_generation_completed") == expected
    assert outcome.generated == 4 and outcome.reused == len(ALL_NODES) - 4
    records = TreeStore(store).load_records()
    history = FrameStore(store).history("pkg/util/strings.py", "context-docs")
    assert len(history) == 2 and history[-1].node_id == records["pkg/util/strings.py"].id


async def test_force_regenerates_everything_and_a_subtree_target_stays_inside(
    workspace: Workspace, store: EventStore, emitter: CheckedEmitter
) -> None:
    await generate(workspace, store, CheckedEmitter())
    outcome = await generate(workspace, store, emitter, path="pkg/util", force=True)
    assert emitter.paths("node_generation_completed") == {
        "pkg/util", "pkg/util/numbers.py", "pkg/util/strings.py"}
    assert outcome.generated == 3 and emitter.of("plan_constructed")[0]["force"] is True


async def test_non_recursive_directory_needs_context_beneath_it(
    workspace: Workspace, store: EventStore, emitter: CheckedEmitter
) -> None:
    with pytest.raises(GenerationError, match=r"5 node\(s\) under pkg have no docs context"):
        await generate(workspace, store, emitter, path="pkg", recursive=False)
    (failed,) = emitter.of("descendant_check_failed")
    assert failed["missing_count"] == 5 and failed["path"] == "pkg"
    assert failed["missing_paths"] == ["pkg/__init__.py", "pkg/core.py", "pkg/util",
                                       "pkg/util/numbers.py", "pkg/util/strings.py"]
    assert "generation_started" not in emitter.types()
    await generate(workspace, store, CheckedEmitter(), path="pkg/util")
    await generate(workspace, store, CheckedEmitter(), path="pkg/core.py", recursive=False)
    await generate(workspace, store, CheckedEmitter(), path="pkg/__init__.py")
    second = CheckedEmitter()
    outcome = await generate(workspace, store, second, path="pkg", recursive=False)
    assert second.of("descendant_check_passed")[0]["path"] == "pkg"
    assert outcome.generated == 1 and second.paths("node_generation_completed") == {"pkg"}


async def test_paths_outside_or_missing_fail_before_any_work(
    workspace: Workspace, store: EventStore, emitter: CheckedEmitter
) -> None:
    with pytest.raises(WorkspaceError, match="outside the workspace"):
        await generate(workspace, store, emitter, path="../elsewhere")
    with pytest.raises(WorkspaceError, match="does not exist"):
        await generate(workspace, store, emitter, path="nope.py")
    assert emitter.events == []


def fail_core(request: RecordedRequest) -> Any:
    if b"Describe pkg/core.py" in request.raw_body:
        return error(401, "invalid key")
    return reply(lambda r: f"frame #{len(r.raw_body)}")


async def test_by_default_a_failed_level_stops_the_run(
    workspace: Workspace, store: EventStore, emitter: CheckedEmitter,
    remote_config: ConfigureProvider, llm_server: FakeLLMServer,
) -> None:
    remote_config("openai")
    llm_server.set_default(fail_core)
    outcome = await generate(workspace, store, emitter)
    assert not outcome.ok and outcome.failed == 1 and outcome.stopped_after_level == 0
    assert outcome.generated == 6, "the rest of level 0 still completes"
    assert [e["level_index"] for e in emitter.of("level_started")] == [0]
    (failed,) = emitter.of("generation_failed")
    assert failed["failed_level_index"] == 0 and failed["total_failed"] == 1
    assert "stopped" in failed["reason"]
    (node,) = emitter.of("node_generation_failed")
    assert node["path"] == "pkg/core.py" and "HTTP 401" in node["error"]
    assert outcome.failures == [("pkg/core.py", node["error"])]


async def test_keep_going_skips_only_the_ancestors_of_failures(
    workspace: Workspace, store: EventStore, emitter: CheckedEmitter,
    remote_config: ConfigureProvider, llm_server: FakeLLMServer,
) -> None:
    remote_config("anthropic")
    llm_server.set_default(fail_core)
    outcome = await generate(workspace, store, emitter, keep_going=True)
    assert emitter.paths("node_skipped", reason="parent_of_failed") == {"pkg", "."}
    assert emitter.paths("node_generation_completed") == ALL_NODES - {"pkg", ".", "pkg/core.py"}
    assert outcome.failed == 1 and outcome.blocked == 2 and outcome.stopped_after_level is None
    (failed,) = emitter.of("generation_failed")
    assert failed["total_skipped"] == 2 and "2 ancestor(s) skipped" in failed["reason"]
    llm_server.set_default(reply("fixed"))
    retry = CheckedEmitter()
    outcome = await generate(workspace, store, retry)
    assert outcome.ok and retry.paths("node_generation_completed") == {"pkg/core.py", "pkg", "."}


async def test_retries_in_a_run_are_visible_and_backoff_is_simulated(
    workspace: Workspace, store: EventStore, emitter: CheckedEmitter,
    remote_config: ConfigureProvider, llm_server: FakeLLMServer, clock: FakeClock,
) -> None:
    remote_config("openai")
    llm_server.enqueue(error(503, "busy", retry_after="2"))
    outcome = await generate(workspace, store, emitter, clock=clock, concurrency=1)
    assert outcome.ok and outcome.generated == len(ALL_NODES)
    (retrying,) = emitter.of("provider_request_retrying")
    assert retrying["delay_ms"] >= 2000 and retrying["plan_id"] == outcome.plan_id
    assert clock.sleeps[0] >= 2.0


async def test_the_reducer_rebuilds_a_real_session_with_every_node_completed(
    workspace: Workspace,
) -> None:
    with ProgressRuntime.open(workspace.store_path) as runtime:
        with runtime.session("context.generate", workspace=workspace.root) as session:
            outcome = await generate(workspace, session.store, session)
        runtime.flush()
        events = list(runtime.store.read_events(session.session_id))
        record = runtime.store.get_session(session.session_id)
    state = replay(events, record)
    assert state.status == "completed" and outcome.ok
    assert state.total_nodes == len(ALL_NODES) == state.completed_count
    assert {path for path, node in state.nodes.items() if node.status == COMPLETED} == ALL_NODES
    assert state.generation_status == "completed" and state.total_levels == 4
    assert all(level.status == "completed" for level in state.level_list())
    assert state.queue["completed"] == len(ALL_NODES) and state.queue["pending"] == 0
    core = state.nodes["pkg/core.py"]
    assert core.frame_id and core.input_tokens and core.queue_wait_ms is not None


async def test_no_api_key_reaches_the_store(
    workspace: Workspace, remote_config: ConfigureProvider, llm_server: FakeLLMServer,
) -> None:
    from .conftest import CANARY_KEY

    def hostile(request: RecordedRequest) -> Any:
        if b"Describe pkg/core.py" in request.raw_body:
            return error(401, f"invalid api key {CANARY_KEY}, header {request.headers}")
        if b"Describe README.md" in request.raw_body:
            return reply(lambda r: f"your key is {CANARY_KEY}")
        return reply("fine")

    for wire in ("openai", "anthropic"):
        remote_config(wire)
        llm_server.set_default(hostile)
        with ProgressRuntime.open(workspace.store_path) as runtime, \
                runtime.session("context.generate", args={"wire": wire}) as session:
            outcome = await generate(workspace, session.store, session, keep_going=True,
                                     force=True)
        assert outcome.failed == 1
    seen = [r for r in llm_server.requests
            if CANARY_KEY in (r.headers.get("authorization", "") + r.headers.get("x-api-key", ""))]
    assert seen, "the key did go to the server, so the check below means something"
    data = (workspace.store_path / "data.mdb").read_bytes()
    assert b"[redacted]" in data, "the echoed key was there to leak"
    assert CANARY_KEY.encode() not in data
    assert CANARY_KEY[:20].encode() not in data


async def test_the_tree_is_scanned_first_when_missing(
    workspace: Workspace, store: EventStore, emitter: CheckedEmitter
) -> None:
    assert ROOT not in TreeStore(store).load_records()
    await generate(workspace, store, emitter, path="docs")
    assert emitter.of("scan_started")[0]["root"] == ".", "no tree yet: a full scan"
    assert emitter.paths("node_generation_completed") == {"docs", "docs/guide.md"}


async def test_names_that_are_not_utf8_are_listed_in_their_parents_frame(
    workspace: Workspace, store: EventStore, emitter: CheckedEmitter
) -> None:
    with open(bytes(workspace.root / "docs") + b"/bad\xffname.txt", "wb") as stream:
        stream.write(b"x\n")

    outcome = await generate(workspace, store, emitter)

    assert outcome.ok
    records = TreeStore(store).load_records()
    docs = FrameStore(store).heads([records["docs"].id], "context-docs")[records["docs"].id]
    assert "- `bad\\xffname.txt` — not in the tree: its name is not valid UTF-8" in docs.content


async def test_keys_of_providers_not_in_use_never_land_in_a_frame(
    workspace: Workspace, store: EventStore, emitter: CheckedEmitter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the `local` provider, a workspace file holding the OpenAI key from the
    environment or the Anthropic key from the user config is summarised without them."""
    environment_key = "sk-env-" + secrets.token_hex(16)
    user_config_key = "sk-ant-user-" + secrets.token_hex(16)
    monkeypatch.setenv("OPENAI_API_KEY", environment_key)
    home = Path(os.environ["CTREE_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(
        f'[providers.anthropic]\napi_key = "{user_config_key}"\n', encoding="utf-8")
    (workspace.root / "pkg" / "keys.py").write_text(
        f'OPENAI_KEY = "{environment_key}"\nANTHROPIC_KEY = "{user_config_key}"\n',
        encoding="utf-8")

    outcome = await generate(workspace, store, emitter, path="pkg/keys.py")

    assert outcome.ok and outcome.generated >= 1
    records = TreeStore(store).load_records()
    frame = FrameStore(store).head(records["pkg/keys.py"].id, "context-docs")
    assert frame is not None and frame.provider_name == "local"
    assert "OPENAI_KEY" in frame.content and "[redacted]" in frame.content
    assert environment_key not in frame.content and user_config_key not in frame.content
