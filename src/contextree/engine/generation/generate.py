"""Context generation end to end: resolve, scan, plan, run — for a command or a watch.

`generate_context` is what `ctree context generate` calls: it checks the agent, provider and
path first (so a typo fails before any work), brings the tree up to date with an incremental
scan of the target, builds the plan and runs it through one queue. `ContextGenerator` owns
that queue and the provider for as long as a command lives, so `ctree watch --generate` runs
every batch through the same queue (`BatchGenerator`, a synchronous adapter with its own event
loop). Every provider key in reach is registered as a secret before any request, so no
event or frame can carry one.
"""

from __future__ import annotations

import asyncio
import os
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from blake3 import blake3

from contextree.engine.emitter import Emitter
from contextree.engine.generation.agents import Agent, resolve_agent
from contextree.engine.generation.frames import FrameStore
from contextree.engine.generation.orchestrator import GenerationOutcome, Orchestrator
from contextree.engine.generation.plan import Plan, build_change_plan, build_plan
from contextree.engine.generation.queue import (
    Clock,
    GenerationJob,
    GenerationQueue,
    ProviderHandle,
    RetryPolicy,
)
from contextree.engine.providers.base import (
    PLACEHOLDER_API_KEY,
    STANDARD_KEY_VARIABLES,
    GenerationRequest,
    create_provider,
)
from contextree.engine.store import EngineStore
from contextree.engine.workspace.config import Config, load_config
from contextree.engine.workspace.layout import Workspace
from contextree.engine.workspace.scan import scan_workspace
from contextree.engine.workspace.tree import NodeRecord, TreeStore
from contextree.engine.workspace.watch import WatchBatch
from contextree.errors import UsageError, WorkspaceError
from contextree.secrets import register_secret

DEFAULT_CONCURRENCY = 8


@dataclass(frozen=True)
class GenerateOptions:
    """The options of `ctree context generate`."""

    path: str | None = None
    agent_id: str | None = None
    provider_name: str | None = None
    force: bool = False
    recursive: bool = True
    concurrency: int | None = None
    keep_going: bool = False

    def session_args(self) -> dict[str, Any]:
        return {"path": self.path or ".", "agent": self.agent_id, "provider": self.provider_name,
                "force": self.force, "recursive": self.recursive,
                "concurrency": self.concurrency, "keep_going": self.keep_going}


def open_provider(
    config: Config, name: str | None = None, *, environ: Mapping[str, str] = os.environ
) -> ProviderHandle:
    """Create the provider `name` (the default when None), after registering every provider
    key in reach as a secret (`register_provider_keys`).

    The key comes from the environment; a key in the user's config file is used when the
    variable is unset.
    """
    register_provider_keys(config, environ)
    provider_config = config.provider_config(name)
    variables = dict(environ)
    stored = config.api_keys.get(provider_config.name)
    if stored and provider_config.type in STANDARD_KEY_VARIABLES:
        variable = provider_config.api_key_env or STANDARD_KEY_VARIABLES[provider_config.type]
        variables.setdefault(variable, stored)
    return ProviderHandle(provider_config, create_provider(provider_config, environ=variables))


def register_provider_keys(config: Config, environ: Mapping[str, str]) -> None:
    """Register as secrets every key any provider could use, whichever provider runs: the
    standard variables, each provider's `api_key_env`, the user config's `api_key`s and a
    base URL's password. A file holding one of them never reaches a frame or an event."""
    variables = set(STANDARD_KEY_VARIABLES.values())
    for table in config.providers.values():
        variable = table.get("api_key_env")
        if isinstance(variable, str):
            variables.add(variable)
        base_url = table.get("base_url")
        if isinstance(base_url, str):
            _register_url_password(base_url)
    found = [environ.get(variable, "").strip() for variable in sorted(variables)]
    for key in [*found, *config.api_keys.values()]:
        if key and key != PLACEHOLDER_API_KEY:
            register_secret(key)


def _register_url_password(url: str) -> None:
    try:
        password = urlsplit(url).password
    except ValueError:
        return
    if password:
        register_secret(password)


class ContextGenerator:
    """The queue, provider and stores of one command; builds and runs plans."""

    def __init__(
        self,
        workspace: Workspace,
        store: EngineStore,
        emitter: Emitter,
        *,
        config: Config,
        agent: Agent,
        provider: ProviderHandle,
        concurrency: int | None = None,
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.workspace = workspace
        self.emitter = emitter
        self.config = config
        self.agent = agent
        self.provider = provider
        self.tree = TreeStore(store)
        self.frames = FrameStore(store)
        limit = concurrency or DEFAULT_CONCURRENCY
        if limit < 1:
            raise UsageError(f"--concurrency must be at least 1, got {limit}")
        self.queue = GenerationQueue(emitter, self.frames, concurrency=limit, retry=retry,
                                     clock=clock)

    def has_head(self, node_ids: Iterable[str]) -> set[str]:
        return self.frames.with_head(node_ids, self.agent.frame_type)

    def plan_target(
        self, records: Mapping[str, NodeRecord], target: str, *, force: bool, recursive: bool
    ) -> Plan:
        if target not in records:
            raise WorkspaceError(
                f"{target} is not in the tree (ignored, or unreadable) — check `ctree scan` output"
            )
        return build_plan(records, target, frame_type=self.agent.frame_type,
                          has_head=self.has_head, force=force, recursive=recursive)

    async def run(self, plan: Plan, records: Mapping[str, NodeRecord], *,
                  keep_going: bool = False) -> GenerationOutcome:
        """Announce `plan` and run it (raises `GenerationError` if the descendant check fails)."""
        orchestrator = Orchestrator(
            self.emitter, self.queue, self.frames, root=self.workspace.root, records=records,
            agent=self.agent, provider=self.provider,
            max_file_bytes=self.config.max_file_bytes,
        )
        orchestrator.announce(plan)
        outcome = await orchestrator.run(plan, keep_going=keep_going)
        await self.queue.join()
        return outcome

    async def aclose(self) -> None:
        """Stop the queue (emitting its last statistics) and close the provider."""
        try:
            await self.queue.aclose()
        finally:
            await self.provider.provider.aclose()


async def generate_context_async(
    workspace: Workspace,
    store: EngineStore,
    emitter: Emitter,
    options: GenerateOptions,
    *,
    config: Config | None = None,
    environ: Mapping[str, str] = os.environ,
    clock: Clock | None = None,
    retry: RetryPolicy | None = None,
) -> GenerationOutcome:
    """Scan what is stale, plan and generate; see the module docstring."""
    config = config if config is not None else load_config(workspace)
    agent = resolve_agent(config, options.agent_id)
    target = workspace.relative_path(options.path)
    if options.concurrency is not None and options.concurrency < 1:
        raise UsageError(f"--concurrency must be at least 1, got {options.concurrency}")
    provider = open_provider(config, options.provider_name, environ=environ)
    generator = ContextGenerator(workspace, store, emitter, config=config, agent=agent,
                                 provider=provider, concurrency=options.concurrency,
                                 clock=clock, retry=retry)
    try:
        await asyncio.to_thread(scan_workspace, workspace, store, emitter, config=config,
                                path=target)
        records = generator.tree.load_records()
        plan = generator.plan_target(records, target, force=options.force,
                                     recursive=options.recursive)
        return await generator.run(plan, records, keep_going=options.keep_going)
    finally:
        await generator.aclose()


def generate_context(
    workspace: Workspace,
    store: EngineStore,
    emitter: Emitter,
    options: GenerateOptions,
    **kwargs: Any,
) -> GenerationOutcome:
    """`generate_context_async` on a fresh event loop."""
    return asyncio.run(generate_context_async(workspace, store, emitter, options, **kwargs))


RECENT_OUTCOMES_KEPT = 16


class BatchGenerator:
    """The `watch --generate` hook: regenerates each batch's changed nodes and ancestors.

    Call it with each `WatchBatch` from the watch thread; it keeps one event loop, queue and
    provider across batches. A failing node is reported and skipped (its ancestors too); the
    watch goes on. `close()` releases the provider and emits nothing.
    """

    def __init__(
        self,
        workspace: Workspace,
        store: EngineStore,
        emitter: Emitter,
        *,
        config: Config | None = None,
        agent_id: str | None = None,
        provider_name: str | None = None,
        concurrency: int | None = None,
        environ: Mapping[str, str] = os.environ,
    ) -> None:
        config = config if config is not None else load_config(workspace)
        self._runner = asyncio.Runner()
        self.generator = ContextGenerator(
            workspace, store, emitter, config=config, agent=resolve_agent(config, agent_id),
            provider=open_provider(config, provider_name, environ=environ),
            concurrency=concurrency,
        )
        self.outcomes: deque[GenerationOutcome] = deque(maxlen=RECENT_OUTCOMES_KEPT)
        """The outcomes of the most recent batches (bounded: a watch runs for days)."""

    def __call__(self, batch: WatchBatch) -> None:
        generator = self.generator
        records = generator.tree.load_records()
        plan = build_change_plan(records, batch.updated_paths,
                                 frame_type=generator.agent.frame_type,
                                 has_head=generator.has_head)
        if not plan.planned_count:
            return
        outcome = self._runner.run(self._run(plan, records))
        self.outcomes.append(outcome)

    async def _run(self, plan: Plan, records: Mapping[str, NodeRecord]) -> GenerationOutcome:
        outcome = await self.generator.run(plan, records, keep_going=True)
        self.generator.queue.report_now()
        return outcome

    def close(self) -> None:
        try:
            self._runner.run(self.generator.provider.provider.aclose())
        finally:
            self._runner.close()

    def __enter__(self) -> BatchGenerator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


@dataclass(frozen=True)
class ProviderCheck:
    """The outcome of `check_provider`: one real request's latency, model and tokens."""

    provider_name: str
    model: str
    latency_ms: int
    input_tokens: int | None
    output_tokens: int | None
    reply: str


CHECK_PATH = "provider-check"
CHECK_PROMPT = "Reply with the single word OK."


async def check_provider_async(
    config: Config, name: str, emitter: Emitter, *, environ: Mapping[str, str] = os.environ
) -> ProviderCheck:
    """Send one small request to provider `name`, once (no retry), through the queue so the
    attempt shows up as provider events; raise `JobFailed` with the one-line error."""
    handle = open_provider(config, name, environ=environ)
    queue = GenerationQueue(emitter, None, concurrency=1, retry=RetryPolicy(max_attempts=1))
    request = GenerationRequest(
        path=CHECK_PATH, node_type="file", system_prompt="You answer connectivity checks.",
        user_prompt=CHECK_PROMPT, file_text=CHECK_PROMPT, file_size=len(CHECK_PROMPT),
        is_binary=False, truncated=False,
    )
    job = GenerationJob(
        node_id=blake3(b"contextree:provider-check").hexdigest(), path=CHECK_PATH,
        node_type="file", agent_id="check", frame_type="provider-check", provider=handle,
        build_request=lambda: request,
    )
    try:
        result = await queue.submit(job, force=True)
    finally:
        await queue.aclose()
        await handle.provider.aclose()
    frame = result.frame
    return ProviderCheck(handle.config.name, frame.model, result.provider_ms,
                         frame.input_tokens, frame.output_tokens, frame.content)


def check_provider(config: Config, name: str, emitter: Emitter, **kwargs: Any) -> ProviderCheck:
    return asyncio.run(check_provider_async(config, name, emitter, **kwargs))
