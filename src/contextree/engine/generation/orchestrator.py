"""The orchestrator: runs a plan level by level through the queue, and says so in events.

`announce` emits `plan_constructed`, the descendant check of a non-recursive directory target
(raising `GenerationError` with the missing paths when it fails) and `node_skipped head_reuse`
for every node that is already current. `run` then submits each level's nodes together (the
queue bounds concurrency) and waits for the level. After a level with failures it stops,
unless `keep_going`, which goes on and skips every ancestor of a failed node
(`node_skipped parent_of_failed`). It ends with `generation_completed`, or `generation_failed`
when any node failed or the run was cancelled.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contextree.engine.emitter import Emitter
from contextree.engine.generation.agents import Agent
from contextree.engine.generation.frames import FrameStore
from contextree.engine.generation.plan import MISSING_PATHS_REPORTED, Plan, ancestors
from contextree.engine.generation.prompts import directory_request, file_request
from contextree.engine.generation.queue import (
    GenerationJob,
    GenerationQueue,
    JobFailed,
    ProviderHandle,
)
from contextree.engine.providers.base import GenerationRequest
from contextree.engine.workspace.tree import DIRECTORY, NodeRecord
from contextree.errors import GenerationError
from contextree.progress.catalog import EventType
from contextree.progress.session import CANCELLED

FAILURES_KEPT = 50


@dataclass
class GenerationOutcome:
    """What a run did. `failures` keeps the first `FAILURES_KEPT` `(path, error)` pairs."""

    plan_id: str
    total_nodes: int = 0
    generated: int = 0
    failed: int = 0
    reused: int = 0
    blocked: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    stopped_after_level: int | None = None
    duration_ms: int = 0

    @property
    def skipped(self) -> int:
        return self.reused + self.blocked

    @property
    def ok(self) -> bool:
        return self.failed == 0

    def summary(self) -> dict[str, Any]:
        """Counts for `command_summary`."""
        return {"plan_id": self.plan_id, "total_nodes": self.total_nodes,
                "generated": self.generated, "failed": self.failed, "skipped": self.skipped,
                "reused": self.reused, "blocked": self.blocked,
                "input_tokens": self.input_tokens, "output_tokens": self.output_tokens}


class Orchestrator:
    """Runs plans over one tree snapshot (`records`, path → record) with one agent."""

    def __init__(
        self,
        emitter: Emitter,
        queue: GenerationQueue,
        frames: FrameStore,
        *,
        root: Path,
        records: Mapping[str, NodeRecord],
        agent: Agent,
        provider: ProviderHandle,
        max_file_bytes: int,
    ) -> None:
        self.emitter = emitter
        self.queue = queue
        self.frames = frames
        self.root = root
        self.agent = agent
        self.provider = provider
        self.max_file_bytes = max_file_bytes
        self._by_id = {record.id: record for record in records.values()}

    # -- before the run -------------------------------------------------------------------

    def announce(self, plan: Plan) -> None:
        """Emit the plan, run the descendant check, and skip what is already current."""
        target = plan.target
        identity = {"node_id": target.id, "path": target.path, "frame_type": plan.frame_type}
        config = self.provider.config
        self.emitter.emit(EventType.PLAN_CONSTRUCTED, {
            "plan_id": plan.plan_id, **identity, "agent_id": self.agent.id,
            "provider_name": config.name, "model": config.model, "force": plan.force,
            "recursive": plan.recursive, "total_nodes": plan.total_nodes,
            "total_levels": len(plan.levels), "skipped_count": len(plan.reused),
            "planned_count": plan.planned_count,
        })
        if not plan.recursive and target.type == DIRECTORY:
            self._descendant_check(plan, identity)
        for record in plan.reused:
            self._skipped(plan, record, "head_reuse")

    def _descendant_check(self, plan: Plan, identity: dict[str, Any]) -> None:
        self.emitter.emit(EventType.DESCENDANT_CHECK_STARTED, {"plan_id": plan.plan_id, **identity})
        missing = plan.missing_paths
        if not missing:
            self.emitter.emit(EventType.DESCENDANT_CHECK_PASSED,
                              {"plan_id": plan.plan_id, **identity})
            return
        self.emitter.emit(EventType.DESCENDANT_CHECK_FAILED, {
            "plan_id": plan.plan_id, **identity, "missing_count": len(missing),
            "missing_paths": missing[:MISSING_PATHS_REPORTED],
        })
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5
                                          else "")
        raise GenerationError(
            f"{len(missing)} node(s) under {plan.target.path} have no {self.agent.id} context "
            f"({shown}) — drop --no-recursive to generate them first"
        )

    # -- the run --------------------------------------------------------------------------

    async def run(self, plan: Plan, *, keep_going: bool = False) -> GenerationOutcome:
        """Generate every level of `plan`; see the module docstring for the policy."""
        started = time.monotonic()
        outcome = GenerationOutcome(plan.plan_id, total_nodes=plan.total_nodes,
                                    reused=len(plan.reused))
        self.emitter.emit(EventType.GENERATION_STARTED, {
            "plan_id": plan.plan_id, "path": plan.target.path, "total_levels": len(plan.levels),
            "total_nodes": plan.total_nodes, "planned_count": plan.planned_count,
        })
        blocked: set[str] = set()
        failed_level: int | None = None
        try:
            for index, level in enumerate(plan.levels):
                failures = await self._level(plan, index, level, blocked, outcome)
                if failures and failed_level is None:
                    failed_level = index
                if failures and not keep_going:
                    outcome.stopped_after_level = index
                    break
        except asyncio.CancelledError:
            outcome.duration_ms = _ms_since(started)
            self._finish(plan, outcome, failed_level, reason=CANCELLED)
            raise
        outcome.duration_ms = _ms_since(started)
        self._finish(plan, outcome, failed_level)
        return outcome

    async def _level(
        self,
        plan: Plan,
        index: int,
        level: list[NodeRecord],
        blocked: set[str],
        outcome: GenerationOutcome,
    ) -> int:
        started = time.monotonic()
        runnable = []
        for record in level:
            if record.path in blocked:
                self._skipped(plan, record, "parent_of_failed", level_index=index)
                outcome.blocked += 1
            else:
                runnable.append(record)
        self.emitter.emit(EventType.LEVEL_STARTED, {
            "plan_id": plan.plan_id, "level_index": index, "total_levels": len(plan.levels),
            "node_count": len(runnable), "skipped_count": len(level) - len(runnable),
        })
        results = await asyncio.gather(
            *(self._node(plan, index, record, outcome) for record in runnable)
        )
        failed = [record for record, ok in zip(runnable, results, strict=True) if not ok]
        for record in failed:
            blocked.update(ancestors(record.path))
        self.emitter.emit(EventType.LEVEL_COMPLETED, {
            "plan_id": plan.plan_id, "level_index": index,
            "completed_count": len(runnable) - len(failed), "failed_count": len(failed),
            "node_count": len(runnable), "duration_ms": _ms_since(started),
        })
        return len(failed)

    async def _node(
        self, plan: Plan, index: int, record: NodeRecord, outcome: GenerationOutcome
    ) -> bool:
        identity = self._identity(plan, record, index)
        self.emitter.emit(EventType.NODE_GENERATION_STARTED, identity)
        started = time.monotonic()
        job = GenerationJob(
            node_id=record.id, path=record.path, node_type=record.type, agent_id=self.agent.id,
            frame_type=plan.frame_type, provider=self.provider,
            build_request=lambda: self._request(record, plan.frame_type), priority=index,
            context={"plan_id": plan.plan_id, "level_index": index},
        )
        try:
            result = await self.queue.submit(job, force=plan.force)
        except JobFailed as failure:
            outcome.failed += 1
            if len(outcome.failures) < FAILURES_KEPT:
                outcome.failures.append((record.path, str(failure)))
            self.emitter.emit(EventType.NODE_GENERATION_FAILED, {
                **identity, "error": str(failure), "error_kind": failure.kind,
                "attempts": failure.attempts, "duration_ms": _ms_since(started),
            })
            return False
        frame = result.frame
        if result.reused:
            outcome.reused += 1
            self._skipped(plan, record, "head_reuse", level_index=index, frame_id=frame.frame_id)
            return True
        outcome.generated += 1
        outcome.input_tokens += frame.input_tokens or 0
        outcome.output_tokens += frame.output_tokens or 0
        self.emitter.emit(EventType.NODE_GENERATION_COMPLETED, {
            **identity, "frame_id": frame.frame_id, "duration_ms": _ms_since(started),
            "attempts": result.attempts, "model": frame.model,
            "input_tokens": frame.input_tokens, "output_tokens": frame.output_tokens,
        })
        return True

    def _request(self, record: NodeRecord, frame_type: str) -> GenerationRequest:
        """Runs when the node's request first gets a slot (in a worker thread, or on the
        event loop for an in-process provider)."""
        if record.type != DIRECTORY:
            return file_request(self.root, record, self.agent, max_file_bytes=self.max_file_bytes)
        children = [self._by_id[child] for child in record.children if child in self._by_id]
        heads = self.frames.heads((child.id for child in children), frame_type)
        return directory_request(record, children, heads, self.agent,
                                 max_prompt_chars=self.max_file_bytes, root=self.root)

    # -- events ---------------------------------------------------------------------------

    def _identity(self, plan: Plan, record: NodeRecord, index: int) -> dict[str, Any]:
        return {"plan_id": plan.plan_id, "level_index": index, "node_id": record.id,
                "path": record.path, "agent_id": self.agent.id,
                "provider_name": self.provider.config.name, "frame_type": plan.frame_type}

    def _skipped(self, plan: Plan, record: NodeRecord, reason: str, **extra: Any) -> None:
        self.emitter.emit(EventType.NODE_SKIPPED, {
            "plan_id": plan.plan_id, "node_id": record.id, "path": record.path,
            "agent_id": self.agent.id, "frame_type": plan.frame_type, "reason": reason, **extra,
        })

    def _finish(self, plan: Plan, outcome: GenerationOutcome, failed_level: int | None,
                reason: str | None = None) -> None:
        totals = {"plan_id": plan.plan_id, "total_generated": outcome.generated,
                  "total_failed": outcome.failed, "total_skipped": outcome.skipped,
                  "duration_ms": outcome.duration_ms}
        if reason is None and outcome.ok:
            self.emitter.emit(EventType.GENERATION_COMPLETED, totals)
            return
        if reason is None:
            reason = _failure_reason(outcome, failed_level)
        self.emitter.emit(EventType.GENERATION_FAILED, {**totals, "reason": reason,
                                                "failed_level_index": failed_level})


def _failure_reason(outcome: GenerationOutcome, failed_level: int | None) -> str:
    """The reason a person reads: levels are numbered from 1 (from 0 only in event data)."""
    nodes = f"{outcome.failed} node(s) failed"
    if outcome.stopped_after_level is not None and failed_level is not None:
        return f"{nodes} in level {failed_level + 1}; stopped there (--keep-going runs the rest)"
    if outcome.blocked:
        return f"{nodes}; {outcome.blocked} ancestor(s) skipped"
    return nodes


def _ms_since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
