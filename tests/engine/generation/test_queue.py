"""The queue with an in-process provider: concurrency, priority, dedupe, retries, rate limits,
statistics. Time is a fake clock, so backoff never waits."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import threading
from collections.abc import Callable

import pytest

from contextree.engine.generation.frames import FrameStore
from contextree.engine.generation.queue import (
    GenerationJob,
    GenerationQueue,
    JobFailed,
    RetryPolicy,
)
from contextree.engine.generation.queue_support import PrioritySlots, StatsReporter
from contextree.engine.providers.base import GenerationRequest, GenerationResponse
from contextree.errors import ProviderError
from contextree.progress import EventStore

from .helpers import (
    CheckedEmitter,
    FakeClock,
    ScriptedProvider,
    permanent,
    scripted_handle,
    transient,
)


def job(provider: ScriptedProvider, path: str, *, priority: int = 0, node_id: str | None = None,
        **limits: object) -> GenerationJob:
    request = GenerationRequest(path=path, node_type="file", system_prompt="s",
                                user_prompt=f"describe {path}", file_text="x", file_size=1,
                                is_binary=False, truncated=False)
    return GenerationJob(
        node_id=node_id or f"{abs(hash(path)):064x}"[-64:], path=path, node_type="file",
        agent_id="docs", frame_type="context-docs",
        provider=scripted_handle(provider, **limits),  # type: ignore[arg-type]
        build_request=lambda: request, priority=priority,
    )


@pytest.fixture
def provider() -> ScriptedProvider:
    return ScriptedProvider()


@pytest.fixture
def queue_factory(emitter: CheckedEmitter, clock: FakeClock, store: EventStore):  # type: ignore[no-untyped-def]
    created: list[GenerationQueue] = []

    def make(concurrency: int = 8, frames: bool = True, **retry: object) -> GenerationQueue:
        queue = GenerationQueue(emitter, FrameStore(store) if frames else None,
                                concurrency=concurrency, clock=clock,
                                retry=RetryPolicy(**retry),  # type: ignore[arg-type]
                                draw=lambda: 0.5)
        created.append(queue)
        return queue

    return make


async def test_a_job_yields_a_stored_frame_and_every_step_is_an_event(
    queue_factory, provider: ScriptedProvider, emitter: CheckedEmitter, store: EventStore
) -> None:
    queue = queue_factory()
    result = await queue.submit(job(provider, "a.py"))
    await queue.aclose()
    assert result.frame.content == "frame of a.py" and result.attempts == 1
    assert FrameStore(store).head(result.frame.node_id, "context-docs") == result.frame
    assert [t for t in emitter.types() if t != "queue_stats"] == [
        "request_enqueued", "request_processing", "provider_request_sent",
        "provider_response_received"]
    (received,) = emitter.of("provider_response_received")
    assert received["input_tokens"] == 3 and received["output_tokens"] == 2
    assert received["request_id"] == result.request_id
    assert emitter.of("queue_stats")[-1] == {"pending": 0, "in_flight": 0, "completed": 1,
                                              "failed": 0, "deduplicated": 0, "retrying": 0}


async def test_concurrency_is_bounded_globally_and_per_provider(
    queue_factory, provider: ScriptedProvider
) -> None:
    provider.gate = asyncio.Event()
    queue = queue_factory(concurrency=3)
    futures = [queue.submit(job(provider, f"f{i}.py")) for i in range(10)]
    while provider.active < 3:
        await asyncio.sleep(0)
    for _ in range(20):
        await asyncio.sleep(0)
    assert provider.active == 3
    provider.gate.set()
    await asyncio.gather(*futures)
    assert provider.max_active == 3
    narrow = ScriptedProvider("narrow")
    narrow.gate = asyncio.Event()
    futures = [queue.submit(job(narrow, f"n{i}.py", max_concurrency=2)) for i in range(6)]
    while narrow.active < 2:
        await asyncio.sleep(0)
    for _ in range(20):
        await asyncio.sleep(0)
    narrow.gate.set()
    await asyncio.gather(*futures)
    assert narrow.max_active == 2
    await queue.aclose()


async def test_lower_priority_numbers_get_free_slots_first() -> None:
    slots = PrioritySlots(1)
    order: list[int] = []
    await slots.acquire(0)

    async def take(priority: int) -> None:
        await slots.acquire(priority)
        order.append(priority)
        slots.release()

    waiters = [asyncio.create_task(take(p)) for p in (5, 1, 3)]
    await asyncio.sleep(0)
    slots.release()
    await asyncio.gather(*waiters)
    assert order == [1, 3, 5]


async def test_a_second_request_joins_the_first(
    queue_factory, provider: ScriptedProvider, emitter: CheckedEmitter
) -> None:
    provider.gate = asyncio.Event()
    queue = queue_factory()
    first = queue.submit(job(provider, "a.py"))
    second = queue.submit(job(provider, "a.py"))
    assert second is first
    provider.gate.set()
    result = await first
    (dedupe,) = emitter.of("request_deduplicated")
    assert dedupe["reason"] == "in_flight" and dedupe["request_id"] == result.request_id
    assert provider.calls == ["a.py"]
    third = await queue.submit(job(provider, "a.py"))
    assert third.reused and third.frame == result.frame
    assert emitter.of("request_deduplicated")[-1]["reason"] == "head_exists"
    forced = await queue.submit(job(provider, "a.py"), force=True)
    assert not forced.reused and provider.calls == ["a.py", "a.py"]
    await queue.aclose()
    assert queue.stats.deduplicated == 2 and queue.stats.completed == 2


async def test_transient_errors_retry_with_exponential_backoff(
    queue_factory, provider: ScriptedProvider, emitter: CheckedEmitter, clock: FakeClock
) -> None:
    provider.fail("a.py", transient(), transient("connection", None), transient("timeout", None))
    queue = queue_factory(base_delay_s=0.5, jitter=0.25)
    result = await queue.submit(job(provider, "a.py"))
    await queue.aclose()
    assert result.attempts == 4 and provider.calls == ["a.py"] * 4
    assert clock.sleeps == [0.5, 1.0, 2.0], "draw 0.5 puts the jitter at its middle"
    retrying = emitter.of("provider_request_retrying")
    assert [(r["attempt"], r["delay_ms"]) for r in retrying] == [(2, 500), (3, 1000), (4, 2000)]
    failed = emitter.of("provider_request_failed")
    assert [f["error_kind"] for f in failed] == ["server", "connection", "timeout"]
    assert all(f["retryable"] and f["transient"] for f in failed)
    assert [p["attempt"] for p in emitter.of("request_processing")] == [1, 2, 3, 4]


async def test_jitter_spreads_delays_within_bounds() -> None:
    policy = RetryPolicy(base_delay_s=1.0, jitter=0.25, max_delay_s=3.0)
    assert policy.delay_s(1, None, 0.0) == 0.75 and policy.delay_s(1, None, 0.999) < 1.25
    assert policy.delay_s(5, None, 0.5) == 3.0, "capped at max_delay_s"
    assert 3.0 <= policy.delay_s(1, 3.0, 0.9) <= 3.0 * 1.0625, "Retry-After is a floor"
    assert policy.delay_s(1, 10_000, 0.0) == policy.max_retry_after_s


async def test_a_retry_after_hint_sets_the_delay(
    queue_factory, provider: ScriptedProvider, emitter: CheckedEmitter, clock: FakeClock
) -> None:
    provider.fail("a.py", transient("rate_limit", 429, retry_after_s=7.0))
    queue = queue_factory()
    await queue.submit(job(provider, "a.py"))
    await queue.aclose()
    assert clock.sleeps[0] >= 7.0
    assert emitter.of("provider_request_retrying")[0]["delay_ms"] >= 7000


async def test_permanent_errors_fail_at_once_and_attempts_are_capped(
    queue_factory, provider: ScriptedProvider, emitter: CheckedEmitter, clock: FakeClock
) -> None:
    provider.fail("auth.py", permanent("auth", 401))
    provider.fail("flaky.py", *[transient() for _ in range(6)])
    queue = queue_factory()
    with pytest.raises(JobFailed, match="fake auth failure") as auth:
        await queue.submit(job(provider, "auth.py"))
    assert auth.value.attempts == 1 and auth.value.kind == "auth"
    with pytest.raises(JobFailed) as flaky:
        await queue.submit(job(provider, "flaky.py"))
    await queue.aclose()
    assert flaky.value.attempts == 4 and provider.calls.count("flaky.py") == 4
    assert len(clock.sleeps) == 3
    last = [f for f in emitter.of("provider_request_failed") if f["path"] == "flaky.py"][-1]
    assert last["retryable"] is False and last["transient"] is True
    (auth_failed,) = [f for f in emitter.of("provider_request_failed") if f["path"] == "auth.py"]
    assert auth_failed["status_code"] == 401 and auth_failed["retryable"] is False
    assert queue.stats.failed == 2


async def test_backoff_gives_the_slot_to_other_requests(
    queue_factory, provider: ScriptedProvider, clock: FakeClock
) -> None:
    provider.fail("slow.py", transient())
    queue = queue_factory(concurrency=1)
    slow = queue.submit(job(provider, "slow.py"))
    other = queue.submit(job(provider, "other.py"))
    await asyncio.gather(slow, other)
    await queue.aclose()
    assert provider.calls == ["slow.py", "other.py", "slow.py"]


async def test_requests_per_minute_spaces_request_starts(
    queue_factory, provider: ScriptedProvider, clock: FakeClock
) -> None:
    queue = queue_factory()
    started = clock.now()
    futures = [queue.submit(job(provider, f"r{i}.py", requests_per_minute=120))
               for i in range(4)]
    await asyncio.gather(*futures)
    await queue.aclose()
    assert clock.now() - started == pytest.approx(1.5), "4 starts at 0.5 s spacing"


async def test_a_failing_request_builder_fails_the_job_without_a_provider_call(
    queue_factory, provider: ScriptedProvider, emitter: CheckedEmitter
) -> None:
    from contextree.errors import GenerationError

    def broken() -> GenerationRequest:
        raise GenerationError("cannot read a.py")

    queue = queue_factory()
    bad = job(provider, "a.py")
    bad = GenerationJob(**{**bad.__dict__, "build_request": broken})
    with pytest.raises(JobFailed, match=r"cannot read a\.py"):
        await queue.submit(bad)
    await queue.aclose()
    assert provider.calls == [] and emitter.of("provider_request_sent") == []


async def test_queue_stats_are_coalesced(
    queue_factory, provider: ScriptedProvider, emitter: CheckedEmitter
) -> None:
    queue = queue_factory(concurrency=4)
    queue._reporter.min_interval_s = queue._reporter.heartbeat_s = 3600.0  # whatever the load
    await asyncio.gather(*(queue.submit(job(provider, f"s{i}.py")) for i in range(200)))
    await queue.aclose()
    stats = emitter.of("queue_stats")
    assert 1 <= len(stats) <= 2, f"800 transitions, one report and the last: {len(stats)} events"
    assert stats[-1]["completed"] == 200 and stats[-1]["pending"] == 0


async def test_stats_reporter_keeps_reporting_while_busy() -> None:
    reports: list[float] = []
    done = asyncio.Event()
    loop = asyncio.get_running_loop()

    def report() -> None:
        reports.append(loop.time())
        if len(reports) == 4:
            done.set()

    reporter = StatsReporter(report, lambda: True, min_interval_s=0.01, heartbeat_s=0.02)
    for _ in range(50):
        reporter.changed()  # a burst: one report now, one when the interval has passed
    await asyncio.wait_for(done.wait(), timeout=60)
    reporter.close()
    gaps = [b - a for a, b in itertools.pairwise(reports)]
    assert gaps[0] >= 0.009, "the burst's second report waits for the interval"
    assert all(gap >= 0.015 for gap in gaps[1:]), "then heartbeats, with no change at all"


class InstantProvider(ScriptedProvider):
    """An in-process provider: answers through `generate_now`, never `generate`."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: list[int] = []

    async def generate(self, request: GenerationRequest) -> GenerationResponse:
        raise AssertionError("the queue must call generate_now for an in-process provider")

    def generate_now(self, request: GenerationRequest) -> GenerationResponse:
        self.threads.append(threading.get_ident())
        script = self.script.get(request.path)
        outcome = script.pop(0) if script else None
        if isinstance(outcome, ProviderError):
            raise outcome
        return GenerationResponse(f"frame of {request.path}", self.model, 3, 2)


async def test_an_in_process_provider_is_answered_on_the_loop_with_the_same_events(
    queue_factory, emitter: CheckedEmitter
) -> None:
    provider = InstantProvider()
    provider.fail("b.py", transient())
    built_on: list[int] = []
    jobs = [job(provider, path) for path in ("a.py", "b.py")]
    jobs = [dataclasses.replace(item, build_request=_recording(item.build_request, built_on))
            for item in jobs]
    queue = queue_factory()

    results = await asyncio.gather(*(queue.submit(item) for item in jobs))

    loop_thread = threading.get_ident()
    assert [result.frame.content for result in results] == ["frame of a.py", "frame of b.py"]
    assert set(provider.threads) == {loop_thread} and set(built_on) == {loop_thread}
    assert len(built_on) == 2, "a retried request is not built again"
    assert results[1].attempts == 2
    assert [event for event, data in emitter.events if data.get("path") == "b.py"] == [
        "request_enqueued", "request_processing", "provider_request_sent",
        "provider_request_failed", "provider_request_retrying", "request_processing",
        "provider_request_sent", "provider_response_received",
    ]


async def test_a_provider_without_generate_now_is_called_off_the_loop(
    queue_factory, provider: ScriptedProvider
) -> None:
    built_on: list[int] = []
    item = job(provider, "a.py")
    item = dataclasses.replace(item, build_request=_recording(item.build_request, built_on))

    await queue_factory().submit(item)

    assert built_on and built_on[0] != threading.get_ident()
    assert provider.calls == ["a.py"]


def _recording(build: Callable[[], GenerationRequest],
               threads: list[int]) -> Callable[[], GenerationRequest]:
    def recorded() -> GenerationRequest:
        threads.append(threading.get_ident())
        return build()

    return recorded


async def test_the_loop_turns_between_in_process_calls_so_a_level_is_not_one_long_step(
    queue_factory,
) -> None:
    turns = 0

    async def count_turns() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    seen: list[int] = []

    class TurnRecording(InstantProvider):
        def generate_now(self, request: GenerationRequest) -> GenerationResponse:
            seen.append(turns)
            return super().generate_now(request)

    provider = TurnRecording()
    counter = asyncio.get_running_loop().create_task(count_turns())
    queue = queue_factory()

    await asyncio.gather(*(queue.submit(job(provider, f"m{i}.py")) for i in range(40)))
    counter.cancel()

    calls_per_turn = max(seen.count(turn) for turn in set(seen))
    assert len(seen) == 40 and calls_per_turn <= 4, "at most max_concurrency calls a turn"
