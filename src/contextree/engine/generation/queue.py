"""The generation queue: bounded, deduplicated, rate-limited, retrying, and visible.

`submit(job)` returns a future for the job's frame. At most `concurrency` requests run at once
(lower priority numbers first), and at most a provider's `max_concurrency` for that provider;
`requests_per_minute` spaces a provider's request starts. A second request for the same
`(node_id, agent_id, frame_type)` joins the first (`request_deduplicated in_flight`), and a node
version that already has a head is answered from it (`head_exists`) unless forced. Transient
failures (timeout, connection, 429, 5xx) are retried with exponential backoff and jitter —
honouring `Retry-After` — up to `RetryPolicy.max_attempts` attempts; other failures fail at
once. A request gives its slot back while it backs off. Every attempt is an event
(`provider_request_failed.retryable` says whether the queue tries again, `transient` whether
the kind of error may pass). A frame is durable (group-committed with the frames finished
beside it) before its future resolves. An in-process provider (`local`) is called on the
loop, its request built there too, without the two thread hand-offs a remote request needs.
Time is injectable (`Clock`), so tests of backoff and rate limits never wait.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

from contextree.engine.emitter import Emitter, session_id_of
from contextree.engine.generation.frames import Frame, FrameStore, compute_frame_id
from contextree.engine.generation.queue_support import (
    FrameCommitter,
    PrioritySlots,
    ProviderLimits,
    StatsReporter,
)
from contextree.engine.providers.base import (
    GenerationRequest,
    InProcessProvider,
    Provider,
    ProviderConfig,
)
from contextree.engine.providers.http_errors import timeout_error
from contextree.errors import ContextreeError, ProviderError
from contextree.progress.catalog import EventType
from contextree.progress.event import now_ts
from contextree.secrets import redact_registered

TIMEOUT_GRACE_S = 10.0
"""The queue's own deadline is the provider's `timeout_s` plus this (a safety net: the SDKs
enforce `timeout_s` per phase, so a server trickling bytes could otherwise hang a slot)."""


class Clock(Protocol):
    """Where the queue reads the time and sleeps (backoff, rate limits)."""

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait before trying a transient failure again."""

    max_attempts: int = 4
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0
    max_retry_after_s: float = 120.0
    jitter: float = 0.25

    def delay_s(self, failed_attempt: int, retry_after_s: float | None, draw: float) -> float:
        """The wait after attempt `failed_attempt` failed; `draw` is uniform in [0, 1)."""
        if retry_after_s is not None:
            return min(retry_after_s, self.max_retry_after_s) * (1 + self.jitter * draw / 4)
        base = min(self.max_delay_s, self.base_delay_s * 2.0 ** (failed_attempt - 1))
        return float(base * (1 - self.jitter + 2 * self.jitter * draw))


@dataclass(frozen=True)
class ProviderHandle:
    """A live provider and the limits of its configuration."""

    config: ProviderConfig
    provider: Provider

    @cached_property
    def in_process(self) -> InProcessProvider | None:
        """The provider when it answers in this process (`InProcessProvider`), else None;
        told once per handle (a protocol check is slow)."""
        return self.provider if isinstance(self.provider, InProcessProvider) else None


@dataclass(frozen=True)
class GenerationJob:
    """One node to write a frame for. `build_request` runs once, in a worker thread (on the
    event loop for an `InProcessProvider`), when the job first gets a slot (so a directory
    reads its children's heads as late as possible);
    `context` adds identity fields (`plan_id`, `level_index`) to every event of the job."""

    node_id: str
    path: str
    node_type: str
    agent_id: str
    frame_type: str
    provider: ProviderHandle
    build_request: Callable[[], GenerationRequest]
    priority: int = 0
    context: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.node_id, self.agent_id, self.frame_type)


@dataclass(frozen=True)
class JobResult:
    """A job's frame and how it was obtained."""

    frame: Frame
    request_id: str
    attempts: int
    provider_ms: int
    reused: bool = False


class JobFailed(ContextreeError):
    """A job that did not produce a frame; `error` is the last error, `attempts` the count."""

    def __init__(self, message: str, *, kind: str, attempts: int) -> None:
        super().__init__(message)
        self.kind = kind
        self.attempts = attempts


@dataclass
class QueueStats:
    pending: int = 0
    in_flight: int = 0
    completed: int = 0
    failed: int = 0
    deduplicated: int = 0
    retrying: int = 0

    @property
    def busy(self) -> bool:
        return bool(self.pending or self.in_flight or self.retrying)


class GenerationQueue:
    """Runs generation jobs on an asyncio loop; create and use it inside that loop."""

    def __init__(
        self,
        emitter: Emitter,
        frames: FrameStore | None,
        *,
        concurrency: int = 8,
        retry: RetryPolicy | None = None,
        clock: Clock | None = None,
        draw: Callable[[], float] = random.random,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.emitter = emitter
        self.frames = frames
        self.retry = retry or RetryPolicy()
        self.clock: Clock = clock or SystemClock()
        self.stats = QueueStats()
        self._draw = draw
        self._slots = PrioritySlots(concurrency)
        self._limits: dict[str, ProviderLimits] = {}
        self._in_flight: dict[tuple[str, str, str], tuple[str, asyncio.Future[JobResult]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._reporter = StatsReporter(
            lambda: emitter.emit(EventType.QUEUE_STATS, vars(self.stats)),
            lambda: self.stats.busy,
        )
        self._committer = FrameCommitter(frames)

    # -- the public side ------------------------------------------------------------------

    def submit(self, job: GenerationJob, *, force: bool = False) -> asyncio.Future[JobResult]:
        """Queue `job` (or join/answer it, see the module doc); returns its future."""
        joined = self._in_flight.get(job.key)
        if joined is not None:
            self._deduplicated(job, joined[0], "in_flight")
            return joined[1]
        request_id = os.urandom(8).hex()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[JobResult] = loop.create_future()
        head = None if force or self.frames is None else self.frames.head(job.node_id,
                                                                         job.frame_type)
        if head is not None:
            self._deduplicated(job, request_id, "head_exists", frame_id=head.frame_id)
            future.set_result(JobResult(head, request_id, attempts=0, provider_ms=0, reused=True))
            return future
        self._in_flight[job.key] = (request_id, future)
        self._emit(job, request_id, EventType.REQUEST_ENQUEUED, priority=job.priority)
        self.stats.pending += 1
        self._reporter.changed()
        task = loop.create_task(self._run(job, request_id, future))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return future

    async def join(self) -> None:
        """Wait until every submitted job has finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def report_now(self) -> None:
        """Emit the statistics at once if they changed, and cancel pending timers (call it
        before leaving the event loop idle between runs)."""
        self._reporter.flush()

    async def aclose(self) -> None:
        """Cancel what is still running and emit the final statistics."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
        self._reporter.close()

    # -- one job --------------------------------------------------------------------------

    async def _run(
        self, job: GenerationJob, request_id: str, future: asyncio.Future[JobResult]
    ) -> None:
        try:
            result = await self._attempts(job, request_id)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except JobFailed as failure:
            self.stats.failed += 1
            future.set_exception(failure)
        except Exception as error:  # the store failed: the caller decides what that means
            self.stats.failed += 1
            future.set_exception(error)
        else:
            self.stats.completed += 1
            future.set_result(result)
        finally:
            self._in_flight.pop(job.key, None)
            self._reporter.changed()

    async def _attempts(self, job: GenerationJob, request_id: str) -> JobResult:
        limits = self._limits_for(job.provider.config)
        request: GenerationRequest | None = None
        provider_ms = 0
        ready_at = self.clock.now()
        for attempt in range(1, self.retry.max_attempts + 1):
            async with limits.semaphore:
                wait_s = limits.reserve_start(self.clock.now())
                if wait_s > 0:
                    await self.clock.sleep(wait_s)
                await self._slots.acquire(job.priority)
                try:
                    self._start_attempt(job, request_id, attempt, ready_at)
                    if request is None:
                        request = await self._build(job, request_id, attempt)
                    outcome, duration_ms = await self._call(job, request_id, attempt, request)
                finally:
                    self.stats.in_flight -= 1
                    self._slots.release()
            provider_ms += duration_ms
            if not isinstance(outcome, ProviderError):
                frame = self._frame(job, outcome.content, outcome.model, outcome.input_tokens,
                                    outcome.output_tokens)
                await self._committer.commit(frame)
                return JobResult(frame, request_id, attempt, provider_ms)
            will_retry = outcome.retryable and attempt < self.retry.max_attempts
            self._emit_failed(job, request_id, attempt, duration_ms, outcome, will_retry)
            if not will_retry:
                raise JobFailed(str(outcome), kind=outcome.kind, attempts=attempt)
            delay_s = self.retry.delay_s(attempt, outcome.retry_after_s, self._draw())
            self._emit_provider(job, request_id, EventType.PROVIDER_REQUEST_RETRYING, attempt + 1,
                                delay_ms=round(delay_s * 1000), error=str(outcome))
            self.stats.retrying += 1
            self._reporter.changed()
            await self.clock.sleep(delay_s)
            ready_at = self.clock.now()
        raise AssertionError("unreachable: the last attempt either returns or raises")

    def _start_attempt(
        self, job: GenerationJob, request_id: str, attempt: int, ready_at: float
    ) -> None:
        if attempt == 1:
            self.stats.pending -= 1
        else:
            self.stats.retrying -= 1
        self.stats.in_flight += 1
        self._reporter.changed()
        wait_ms = max(0, round((self.clock.now() - ready_at) * 1000))
        self._emit(job, request_id, EventType.REQUEST_PROCESSING, attempt=attempt,
                   queue_wait_ms=wait_ms)

    async def _build(self, job: GenerationJob, request_id: str, attempt: int) -> GenerationRequest:
        try:
            if job.provider.in_process is not None:
                return job.build_request()
            return await asyncio.to_thread(job.build_request)
        except ContextreeError as error:
            raise JobFailed(str(error), kind="input", attempts=attempt) from None
        except OSError as error:
            raise JobFailed(f"cannot prepare {job.path}: {error}", kind="input",
                            attempts=attempt) from None

    async def _call(
        self, job: GenerationJob, request_id: str, attempt: int, request: GenerationRequest
    ) -> tuple[Any, int]:
        """One provider call: the response or the `ProviderError`, and its duration."""
        handle = job.provider
        self._emit_provider(job, request_id, EventType.PROVIDER_REQUEST_SENT, attempt,
                            prompt_chars=len(request.system_prompt) + len(request.user_prompt))
        started = time.monotonic()
        outcome: Any
        direct = handle.in_process
        try:
            if direct is not None:
                outcome = direct.generate_now(request)
            else:
                async with asyncio.timeout(handle.config.timeout_s + TIMEOUT_GRACE_S):
                    outcome = await handle.provider.generate(request)
        except ProviderError as error:
            outcome = error
        except TimeoutError:
            outcome = timeout_error(handle.config.name, handle.config.timeout_s)
        except Exception as error:  # a provider bug must fail the node, not the run
            outcome = ProviderError(f"provider '{handle.config.name}' failed: "
                                    f"{type(error).__name__}: {error}", kind="other")
        duration_ms = round((time.monotonic() - started) * 1000)
        if direct is not None:
            # Yield while holding the provider's slot, so each loop turn runs at most
            # `max_concurrency` in-process calls: frames get committed, completions reported
            # and a cancellation heard as the level goes, not once it is done.
            await asyncio.sleep(0)
        if not isinstance(outcome, ProviderError):
            self._emit_provider(
                job, request_id, EventType.PROVIDER_RESPONSE_RECEIVED, attempt,
                duration_ms=duration_ms, input_tokens=outcome.input_tokens,
                output_tokens=outcome.output_tokens, response_chars=len(outcome.content),
                response_model=outcome.model,
            )
        return outcome, duration_ms

    def _frame(self, job: GenerationJob, content: str, model: str, input_tokens: int | None,
               output_tokens: int | None) -> Frame:
        config = job.provider.config
        content = redact_registered(content)
        return Frame(
            frame_id=compute_frame_id(job.node_id, job.agent_id, job.frame_type, content),
            node_id=job.node_id, path=job.path, node_type=job.node_type,
            agent_id=job.agent_id, frame_type=job.frame_type, provider_name=config.name,
            provider_type=config.type, model=model, input_tokens=input_tokens,
            output_tokens=output_tokens, created_at=now_ts(), content=content,
            session_id=session_id_of(self.emitter),
        )

    def _limits_for(self, config: ProviderConfig) -> ProviderLimits:
        limits = self._limits.get(config.name)
        if limits is None:
            limits = self._limits[config.name] = ProviderLimits(config)
        return limits

    # -- events ---------------------------------------------------------------------------

    def _emit(self, job: GenerationJob, request_id: str, event_type: EventType,
              **data: Any) -> None:
        self.emitter.emit(event_type, {
            **job.context, "request_id": request_id, "node_id": job.node_id, "path": job.path,
            "agent_id": job.agent_id, "frame_type": job.frame_type,
            "provider_name": job.provider.config.name, **data,
        })

    def _emit_provider(self, job: GenerationJob, request_id: str, event_type: EventType,
                       attempt: int, **data: Any) -> None:
        config = job.provider.config
        self._emit(job, request_id, event_type, provider_type=config.type, model=config.model,
                   attempt=attempt, **data)

    def _emit_failed(self, job: GenerationJob, request_id: str, attempt: int, duration_ms: int,
                     error: ProviderError, will_retry: bool) -> None:
        self._emit_provider(
            job, request_id, EventType.PROVIDER_REQUEST_FAILED, attempt, duration_ms=duration_ms,
            error=str(error), error_kind=error.kind, status_code=error.status_code,
            retryable=will_retry, transient=error.retryable,
        )

    def _deduplicated(self, job: GenerationJob, request_id: str, reason: str,
                      **extra: Any) -> None:
        self.stats.deduplicated += 1
        self._reporter.changed()
        self._emit(job, request_id, EventType.REQUEST_DEDUPLICATED, reason=reason, **extra)
