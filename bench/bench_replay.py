"""Replay into the state model (SPEC §9: ≥ 200,000 events/s).

Method: a realistic `context.generate` session of about 200,000 events is written through the
runtime into a fresh store (per SPEC §4: plan, levels deepest first, and per node
`node_generation_started`, `request_enqueued`, `request_processing`, `provider_request_sent`,
`provider_response_received`, `node_generation_completed`, with ~3 % of nodes retried after a
429, ~0.5 % failing, and coalesced `queue_stats`; nodes interleaved four at a time as the queue
runs them). Then, timed separately, several times each (median reported):
  - read + replay: `reducer.replay(store.read_events(sid))`, the figure with the target;
  - read only: `store.read_events(sid)` (LMDB cursor scan + msgspec decode into `Event`);
  - reducer only: `reducer.replay(events)` over the already-decoded events.
Baselines in the same run: the bare LMDB cursor scan (`read_raw_events`, no decoding), stdlib
`json.loads` of every stored value (the codec without msgspec), and a minimal fold (count events
by type) over the decoded events — the floor of any Python reducer.

    .venv/bin/python bench/bench_replay.py [--quick] [--json PATH] [--events N] [--profile]
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable, Iterator
from typing import Any

from common import Baseline, Report, Target, median, parse_args, print_profile, temp_dir
from contextree.progress import ProgressRuntime
from contextree.progress.event import Event
from contextree.progress.reducer import replay

AGENT, PROVIDER, MODEL, FRAME_TYPE = "docs", "local", "local-summarizer", "context-docs"
LEVELS = 8
LEVEL_WEIGHTS = (40, 24, 14, 9, 6, 4, 2, 1)
CONCURRENCY = 4
EVENTS_PER_NODE_ESTIMATE = 6.42


def hexid(text: str, size: int = 64) -> str:
    return hashlib.blake2b(text.encode(), digest_size=size // 2).hexdigest()


def generation_session(target_events: int, seed: int = 7) -> Iterator[tuple[str, dict[str, Any]]]:
    """(type, data) of a realistic generation session of about `target_events` events."""
    rng = random.Random(seed)
    total_nodes = max(LEVELS, int(target_events / EVENTS_PER_NODE_ESTIMATE))
    counts = [max(1, total_nodes * w // sum(LEVEL_WEIGHTS)) for w in LEVEL_WEIGHTS]
    counts[0] += total_nodes - sum(counts)
    plan_id = hexid("plan")
    yield "plan_constructed", {
        "plan_id": plan_id, "node_id": hexid("."), "path": ".", "agent_id": AGENT,
        "provider_name": PROVIDER, "model": MODEL, "frame_type": FRAME_TYPE, "force": False,
        "recursive": True, "total_nodes": total_nodes, "total_levels": LEVELS, "skipped_count": 0,
    }
    yield "generation_started", {"plan_id": plan_id, "path": ".", "total_levels": LEVELS,
                                 "total_nodes": total_nodes}
    done = failed_total = 0
    for level, node_count in enumerate(counts):
        yield "level_started", {"plan_id": plan_id, "level_index": level,
                                "total_levels": LEVELS, "node_count": node_count}
        completed = failed = 0
        for first in range(0, node_count, CONCURRENCY):
            group = []
            for n in range(first, min(first + CONCURRENCY, node_count)):
                depth = LEVELS - level
                path = "/".join(f"pkg{(n >> (3 * d)) % 8}" for d in range(depth - 1))
                path = f"{path}/module_{n}.py" if level == 0 else f"{path}/dir_{n}"
                node = {"node_id": hexid(f"{level}:{path}"), "path": path}
                request = {"request_id": hexid(f"r:{level}:{path}", 32), **node}
                group.append((node, request, rng.random()))
            for node, _, _ in group:
                yield "node_generation_started", {
                    "plan_id": plan_id, "level_index": level, **node, "agent_id": AGENT,
                    "provider_name": PROVIDER, "frame_type": FRAME_TYPE,
                }
            for _, request, _ in group:
                yield "request_enqueued", {
                    **request, "agent_id": AGENT, "frame_type": FRAME_TYPE,
                    "provider_name": PROVIDER, "priority": level,
                }
            for node, request, luck in group:
                provider = {**request, "provider_name": PROVIDER, "provider_type": "local",
                            "model": MODEL}
                attempts = 2 if luck < 0.035 else 1
                for attempt in range(1, attempts + 1):
                    yield "request_processing", {**request, "attempt": attempt,
                                                 "queue_wait_ms": rng.randint(0, 40)}
                    yield "provider_request_sent", {**provider, "attempt": attempt,
                                                    "prompt_chars": rng.randint(400, 12_000)}
                    if attempt < attempts or luck < 0.005:
                        retry = attempt < attempts and luck >= 0.005
                        yield "provider_request_failed", {
                            **provider, "attempt": attempt, "duration_ms": rng.randint(5, 900),
                            "error": "429 Too Many Requests", "error_kind": "rate_limit",
                            "status_code": 429, "retryable": retry,
                        }
                        if retry:
                            yield "provider_request_retrying", {
                                **provider, "attempt": attempt + 1,
                                "delay_ms": rng.randint(200, 2_000),
                                "error": "429 Too Many Requests",
                            }
                            continue
                        break
                    yield "provider_response_received", {
                        **provider, "attempt": attempt, "duration_ms": rng.randint(1, 1_500),
                        "input_tokens": rng.randint(100, 4_000),
                        "output_tokens": rng.randint(50, 600),
                        "response_chars": rng.randint(200, 2_400),
                    }
                common = {"plan_id": plan_id, "level_index": level, **node, "agent_id": AGENT,
                          "provider_name": PROVIDER, "frame_type": FRAME_TYPE,
                          "duration_ms": rng.randint(5, 2_000)}
                if luck < 0.005:
                    failed += 1
                    yield "node_generation_failed", {**common,
                                                     "error": "provider: 429 Too Many Requests"}
                else:
                    completed += 1
                    yield "node_generation_completed", {
                        **common, "frame_id": hexid(f"f:{node['node_id']}")}
            done += len(group)
            yield "queue_stats", {"pending": total_nodes - done, "in_flight": CONCURRENCY,
                                  "completed": done, "failed": failed_total + failed,
                                  "deduplicated": 0, "retrying": 0}
        failed_total += failed
        yield "level_completed", {"plan_id": plan_id, "level_index": level,
                                  "completed_count": completed, "failed_count": failed,
                                  "node_count": node_count, "duration_ms": rng.randint(50, 9_000)}
    yield "generation_completed", {"plan_id": plan_id, "total_generated": done - failed_total,
                                   "total_failed": failed_total, "total_skipped": 0,
                                   "duration_ms": 120_000}
    yield "command_summary", {"command": "context.generate", "ok": failed_total == 0,
                              "duration_ms": 120_000, "generated": done - failed_total,
                              "failed": failed_total}


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median seconds of `repeats` calls, and the last result (the previous one is dropped
    before each call, so it does not weigh on the garbage collector during the next)."""
    times, result = [], None
    for _ in range(repeats):
        result = None
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return median(times), result


def count_types(events: list[Event]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for event in events:
        counts[event.type] = counts.get(event.type, 0) + 1
    return counts


def main() -> int:
    args = parse_args(
        __doc__.splitlines()[0],
        [("--events", {"type": int, "default": None, "help": "approximate session size"}),
         ("--profile", {"action": "store_true",
                        "help": "also print a cProfile of one read + replay (top by own time)"})],
    )
    report = Report("bench_replay", args)
    target = args.events or (5_000 if args.quick else 200_000)
    repeats = 1 if args.quick else 5
    with temp_dir(args.dir, "bench-replay-") as path:
        runtime = ProgressRuntime.open(path / "store")
        with runtime.session("context.generate", args={"path": "."}) as session:
            emit = session.emit
            for event_type, data in generation_session(target):
                emit(event_type, data)
        runtime.flush()
        store = runtime.store
        sid = session.session_id
        raw = store.read_raw_events(sid)
        total = len(raw)
        by_type = count_types(store.read_events(sid))
        nodes = by_type.get("node_generation_started", 0)
        report.note(
            f"session of {total:,} stored events, {nodes:,} nodes "
            f"({total / max(nodes, 1):.2f} events/node), "
            f"{sum(len(v) for _, v in raw) / total:.0f} bytes/event; median of {repeats} runs"
        )
        report.note("mix: " + ", ".join(f"{t} {c:,}" for t, c in sorted(by_type.items())))
        del raw

        t_total, state = timed(lambda: replay(store.read_events(sid)), repeats)
        t_read, events = timed(lambda: store.read_events(sid), repeats)
        t_reduce, state2 = timed(lambda: replay(events), repeats)
        t_raw, _ = timed(lambda: store.read_raw_events(sid), repeats)
        raw = store.read_raw_events(sid)
        loads = json.loads
        t_json, _ = timed(lambda: [loads(value) for _, value in raw], repeats)
        t_fold, _ = timed(lambda: count_types(events), repeats)
        if args.profile:
            del events, raw
            print("-- cProfile of one replay(store.read_events(sid)):")
            print_profile(lambda: replay(store.read_events(sid)))
        runtime.close()

    assert state.status == "completed" and state.event_count == total, state.status
    assert state.completed_count + state.failed_count == nodes, (state.completed_count, nodes)
    assert state2.to_json() == state.to_json()
    report.note(
        f"final state: {state.completed_count:,} completed, {state.failed_count:,} failed, "
        f"{len(state.levels)} levels, {state.provider.retries:,} retries"
    )
    rate_total = total / t_total
    rate_read = total / t_read
    rate_reduce = total / t_reduce
    report.row("replay.read_and_reduce_eps", rate_total, "ev/s",
               baselines=[Baseline("raw LMDB cursor scan", total / t_raw, "ev/s")],
               target=Target(">=", 200_000),
               note=f"{t_total * 1000:.0f} ms for the session")
    report.row("replay.read_only_eps", rate_read, "ev/s",
               baselines=[Baseline("raw scan", total / t_raw, "ev/s"),
                          Baseline("raw scan + json.loads", total / (t_raw + t_json), "ev/s")],
               note=f"{t_read * 1000:.0f} ms; {t_read / t_total * 100:.0f} % of read + reduce")
    report.row("replay.reduce_only_eps", rate_reduce, "ev/s",
               baselines=[Baseline("minimal fold (count by type)", total / t_fold, "ev/s")],
               note=f"{t_reduce * 1000:.0f} ms; {t_reduce / t_total * 100:.0f} % of read + reduce")
    return report.finish()


if __name__ == "__main__":
    raise SystemExit(main())
