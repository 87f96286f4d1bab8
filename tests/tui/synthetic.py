"""Realistic synthetic sessions, for the TUI tests and the TUI benchmark.

`generation_events(plan)` simulates `ctree context generate` — plan, levels deepest first, a
queue with bounded concurrency, provider requests with latency, retryable failures with
backoff, hard failures, head-reuse skips, queue statistics, the command summary — and yields
`(offset_ms, type, data)` with every payload exactly as SPEC §4 lists it. `scan_events` and
`watch_events` do the same for scan and watch. Two sinks:

- `write_session(store, …)` writes a whole session straight into a store with fixed
  timestamps and ids (deterministic screenshots);
- `emit_session(session, …)` emits through a real `ProgressRuntime` session, paced.

Run as a process (`python -m tests.tui.synthetic STORE …`) it writes one generation session
through `ProgressRuntime` and prints `SESSION <id>`, then `DONE` — a writer in another process.
"""

from __future__ import annotations

import argparse
import hashlib
import heapq
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ulid import ULID

from contextree.progress import EventStore, ProgressRuntime, Session
from contextree.progress.event import assemble_event, encode_payload, event_key, format_ts
from contextree.progress.session import SessionMeta, SessionRecord
from contextree.progress.store import encode_meta, encode_record

Planned = tuple[int, str, dict[str, Any]]  # (offset_ms, type, data)
T0 = 1_795_000_000.0  # 2026-11-18T…Z: the fixed start of deterministic sessions


def fixed_ulid(epoch_s: float, serial: int) -> str:
    """A valid ULID for `epoch_s` with a fixed random part: deterministic, time-ordered."""
    return str(ULID.from_bytes(int(epoch_s * 1000).to_bytes(6, "big")
                               + serial.to_bytes(10, "big")))


def hex_id(*parts: object, length: int = 32) -> str:
    return hashlib.sha256("\0".join(map(str, parts)).encode()).hexdigest()[:length]


@dataclass(frozen=True)
class GenerationPlan:
    """What the simulated `context generate` does (levels deepest first)."""

    levels: list[list[str]]
    skipped: list[str] = field(default_factory=list)
    fail: frozenset[str] = frozenset()
    retry: frozenset[str] = frozenset()
    waiting: frozenset[str] = frozenset()
    """Left waiting for the provider when the simulation stops (an active session)."""
    stop_after_level: int | None = None
    """Stop (session still running) after this many levels have started."""
    provider_name: str = "local"
    provider_type: str = "local"
    model: str = "local-summary"
    agent_id: str = "docs"
    frame_type: str = "context-docs"
    latency_ms: int = 40
    retry_delay_ms: int = 250
    concurrency: int = 4
    plan_id: str = "5f1c0de5a11ce0b5"
    keep_going: bool = True

    @property
    def total_nodes(self) -> int:
        return sum(len(level) for level in self.levels) + len(self.skipped)


def tree_plan(files_per_dir: int = 6, dirs: int = 4, depth: int = 2, **options: Any) -> \
        GenerationPlan:
    """A plan over a synthetic tree: files, then their directories, up to the root `.`."""
    levels: list[list[str]] = []
    parents = ["."]
    tree: list[list[str]] = [["."]]
    for _ in range(depth):
        parents = [f"{parent}/pkg{index}".removeprefix("./") for parent in parents
                   for index in range(dirs)]
        tree.append(parents)
    files = [f"{directory}/module_{index:02d}.py" for directory in tree[-1]
             for index in range(files_per_dir)]
    levels.append(files)
    levels.extend(reversed(tree))
    skipped = set(options.get("skipped", ()))
    levels = [[path for path in level if path not in skipped] for level in levels]
    return GenerationPlan(levels=levels, **options)


def flat_plan(nodes: int, levels: int = 1, **options: Any) -> GenerationPlan:
    """`nodes` files spread over `levels` levels (for large sessions)."""
    per_level = max(1, nodes // levels)
    paths = [[f"src/part{level}/file_{index:05d}.py" for index in range(per_level)]
             for level in range(levels)]
    return GenerationPlan(levels=paths, **options)


def _latency(plan: GenerationPlan, path: str, attempt: int) -> int:
    spread = int(hex_id(path, attempt, length=4), 16) % max(1, plan.latency_ms)
    return plan.latency_ms + spread


def generation_events(plan: GenerationPlan) -> Iterator[Planned]:
    """The events of one `context generate` session, in emit order (see the module doc)."""
    events: list[tuple[int, int, str, dict[str, Any]]] = []
    order = 0

    def at(offset: int, event_type: str, data: dict[str, Any]) -> None:
        nonlocal order
        order += 1
        events.append((offset, order, event_type, data))

    base = {"plan_id": plan.plan_id}
    ident = {"agent_id": plan.agent_id, "provider_name": plan.provider_name,
             "frame_type": plan.frame_type}
    total_levels = len(plan.levels)
    at(0, "plan_constructed", {**base, "node_id": hex_id("."), "path": ".", **ident,
                               "model": plan.model, "force": False, "recursive": True,
                               "total_nodes": plan.total_nodes, "total_levels": total_levels,
                               "skipped_count": len(plan.skipped)})
    for path in plan.skipped:
        at(1, "node_skipped", {"node_id": hex_id(path), "path": path, "agent_id": plan.agent_id,
                               "frame_type": plan.frame_type, "reason": "head_reuse"})
    at(2, "generation_started", {**base, "path": ".", "total_levels": total_levels,
                                 "total_nodes": plan.total_nodes})
    now, generated, failed = 3, 0, 0
    blocked: set[str] = set()
    for level_index, planned in enumerate(plan.levels):
        level_start = now
        paths = [path for path in planned if path not in blocked]
        for path in planned:
            if path in blocked:  # an ancestor of a failed node (--keep-going)
                at(now, "node_skipped", {**base, "node_id": hex_id(path), "path": path,
                                         "agent_id": plan.agent_id,
                                         "frame_type": plan.frame_type,
                                         "reason": "parent_of_failed",
                                         "level_index": level_index})
        at(now, "level_started", {**base, "level_index": level_index,
                                  "total_levels": total_levels, "node_count": len(paths),
                                  "skipped_count": len(planned) - len(paths)})
        for priority, path in enumerate(paths):
            node = {"node_id": hex_id(path), "path": path}
            at(now, "node_generation_started", {**base, "level_index": level_index, **node,
                                                **ident})
            at(now, "request_enqueued", {"request_id": hex_id("req", path, length=16), **node,
                                         "agent_id": plan.agent_id, "frame_type": plan.frame_type,
                                         "provider_name": plan.provider_name,
                                         "priority": priority})
        stop_here = plan.stop_after_level is not None and level_index + 1 >= plan.stop_after_level
        ok, bad, now = _run_level(plan, level_index, paths, level_start + 1, at, stop_here)
        generated, failed = generated + ok, failed + bad
        blocked.update(parent for path in paths if path in plan.fail
                       for parent in _ancestors(path))
        if stop_here:
            return _sorted(events)
        at(now, "level_completed", {**base, "level_index": level_index, "completed_count": ok,
                                    "failed_count": bad, "node_count": len(paths),
                                    "duration_ms": now - level_start})
        now += 1
        if bad and not plan.keep_going:
            at(now, "generation_failed", {**base, "reason": f"{bad} node(s) failed",
                                          "failed_level_index": level_index,
                                          "total_generated": generated, "total_failed": failed,
                                          "duration_ms": now})
            break
    else:
        at(now, "generation_completed", {**base, "total_generated": generated,
                                         "total_failed": failed,
                                         "total_skipped": len(plan.skipped), "duration_ms": now})
    at(now + 1, "command_summary", {"command": "context.generate", "ok": failed == 0,
                                    "duration_ms": now + 1, "generated": generated,
                                    "failed": failed, "skipped": len(plan.skipped)})
    return _sorted(events)


def _ancestors(path: str) -> Iterator[str]:
    while path != ".":
        path = path.rsplit("/", 1)[0] if "/" in path else "."
        yield path


def _sorted(events: list[tuple[int, int, str, dict[str, Any]]]) -> Iterator[Planned]:
    events.sort(key=lambda item: (item[0], item[1]))
    return _with_queue_stats(events)


def _run_level(plan: GenerationPlan, level_index: int, paths: list[str], start: int,
               at: Any, stop_here: bool) -> tuple[int, int, int]:
    """Simulate the queue over one level; return (completed, failed, end time)."""
    workers = [(start, slot) for slot in range(plan.concurrency)]
    heapq.heapify(workers)
    ok = bad = 0
    end = start
    for path in paths:
        free_at, slot = heapq.heappop(workers)
        if free_at >= 10**9:  # every worker waits on the provider: the rest stay queued
            break
        request = {"request_id": hex_id("req", path, length=16), "node_id": hex_id(path),
                   "path": path}
        provider = {**request, "provider_name": plan.provider_name,
                    "provider_type": plan.provider_type, "model": plan.model}
        t = free_at
        attempt = 1
        started = t
        while True:
            at(t, "request_processing", {**request, "attempt": attempt,
                                         "queue_wait_ms": t - start})
            at(t + 1, "provider_request_sent", {**provider, "attempt": attempt,
                                                "prompt_chars": 1200 + len(path) * 10})
            if stop_here and path in plan.waiting:
                heapq.heappush(workers, (10**9, slot))
                break
            latency = _latency(plan, path, attempt)
            t += 1 + latency
            if path in plan.retry and attempt == 1:
                error = "read timed out after 30 s"
                at(t, "provider_request_failed", {**provider, "attempt": attempt,
                                                  "duration_ms": latency, "error": error,
                                                  "error_kind": "timeout", "status_code": None,
                                                  "retryable": True})
                at(t, "provider_request_retrying", {**provider, "attempt": attempt + 1,
                                                    "delay_ms": plan.retry_delay_ms,
                                                    "error": error})
                t += plan.retry_delay_ms
                attempt += 1
                continue
            node = {"plan_id": plan.plan_id, "level_index": level_index,
                    "node_id": hex_id(path), "path": path, "agent_id": plan.agent_id,
                    "provider_name": plan.provider_name, "frame_type": plan.frame_type}
            if path in plan.fail:
                error = "provider rejected the request: 400 Bad Request — prompt too long " \
                        "(131072 tokens > 128000)"
                at(t, "provider_request_failed", {**provider, "attempt": attempt,
                                                  "duration_ms": latency, "error": error,
                                                  "error_kind": "bad_request",
                                                  "status_code": 400, "retryable": False})
                at(t, "node_generation_failed", {**node, "error": error,
                                                 "duration_ms": t - started})
                bad += 1
            else:
                at(t, "provider_response_received", {
                    **provider, "attempt": attempt, "duration_ms": latency,
                    "input_tokens": 300 + len(path), "output_tokens": 120,
                    "response_chars": 480})
                at(t, "node_generation_completed", {**node, "frame_id": hex_id("frame", path),
                                                    "duration_ms": t - started})
                ok += 1
            heapq.heappush(workers, (t, slot))
            end = max(end, t)
            break
    return ok, bad, end + 1


def _with_queue_stats(events: list[tuple[int, int, str, dict[str, Any]]]) -> Iterator[Planned]:
    """Insert `queue_stats` on transitions, at most every 100 ms of simulated time."""
    stats = {"pending": 0, "in_flight": 0, "completed": 0, "failed": 0, "deduplicated": 0,
             "retrying": 0}
    last_stats = -1000
    for offset, _, event_type, data in events:
        yield offset, event_type, data
        force = event_type == "level_completed"
        if event_type == "request_enqueued":
            stats["pending"] += 1
        elif event_type == "request_processing":
            stats["in_flight"] += 1
            if data.get("attempt", 1) > 1:
                stats["retrying"] -= 1
            else:
                stats["pending"] -= 1
        elif event_type == "provider_request_retrying":
            stats["in_flight"] -= 1
            stats["retrying"] += 1
        elif event_type in ("node_generation_completed", "node_generation_failed"):
            stats["in_flight"] -= 1
            stats["completed" if event_type.endswith("completed") else "failed"] += 1
        elif not force:
            continue
        if force or offset - last_stats >= 100:
            last_stats = offset
            yield offset, "queue_stats", dict(stats)


def scan_events(files: int = 120, dirs: int = 14, rehashed: int = 7) -> Iterator[Planned]:
    yield 0, "scan_started", {"root": ".", "force": False}
    nodes = files + dirs
    for step in range(1, 4):
        yield step * 100, "scan_progress", {"node_count": nodes * step // 4,
                                            "file_count": files * step // 4,
                                            "dir_count": dirs * step // 4,
                                            "bytes_hashed": 40_000 * step}
    yield 400, "scan_progress", {"node_count": nodes, "file_count": files, "dir_count": dirs,
                                 "bytes_hashed": 163_840}
    yield 410, "scan_completed", {"node_count": nodes, "file_count": files, "dir_count": dirs,
                                  "bytes_hashed": 163_840, "files_rehashed": rehashed,
                                  "root_id": hex_id("root"), "changed": True,
                                  "duration_ms": 410}
    yield 411, "command_summary", {"command": "scan", "ok": True, "duration_ms": 411,
                                   "node_count": nodes, "files_rehashed": rehashed}


def watch_events(batches: int = 3) -> Iterator[Planned]:
    yield 0, "watch_started", {"root": ".", "debounce_ms": 200, "generate": False}
    kinds = ("modified", "added", "modified", "deleted")
    t = 1000
    for batch in range(batches):
        paths = [f"src/app/handler_{batch}_{index}.py" for index in range(3)]
        for index, path in enumerate(paths):
            yield t + index, "file_changed", {"path": path, "change": kinds[(batch + index) % 4]}
        yield t + 250, "batch_processed", {"change_count": len(paths), "nodes_updated": 5,
                                           "root_id": hex_id("root", batch),
                                           "duration_ms": 12}
        t += 1500


# -- sinks ------------------------------------------------------------------------------


def write_session(store: EventStore, events: Iterable[Planned], *, session_id: str,
                  command: str = "context.generate", start_s: float = T0,
                  status: str | None = "completed", error: str | None = None,
                  args: dict[str, Any] | None = None, workspace: str = "/work/demo") -> str:
    """Write a whole session with fixed timestamps straight into `store`.

    `status` None leaves it running (active: its owner is on another host, which readers
    never call dead); `"interrupted"` leaves it without an end, its owner process gone.
    """
    pid, host = (4242, "build-host") if status is None else (0, "")
    args = args or {}
    body = [(0, "session_started", {"command": command, "args": args, "workspace": workspace,
                                    "pid": pid, "version": "0.1.0"})]
    body += [(offset + 1, event_type, data) for offset, event_type, data in events]
    ended = status in ("completed", "failed")
    last = body[-1][0]
    if ended:
        body.append((last + 1, "session_ended", {"status": status, "error": error,
                                                 "duration_ms": last + 1}))
    record = SessionRecord(
        session_id=session_id, command=command, args=args, workspace=workspace, pid=pid,
        host=host, proc_start=0.0, started_at=format_ts(start_s),
        ended_at=format_ts(start_s + body[-1][0] / 1000) if ended else None,
        status=status if ended else "active", error=error)

    def write(txn: Any) -> None:
        for seq, (offset, event_type, data) in enumerate(body, start=1):
            ts = format_ts(start_s + offset / 1000)
            txn.put(event_key(session_id, seq),
                    assemble_event(ts, session_id, seq, event_type, encode_payload(data)),
                    db=store.events_db)
        meta = SessionMeta(next_seq=len(body) + 1, status=record.status,
                           last_ts=format_ts(start_s + body[-1][0] / 1000),
                           event_count=len(body))
        txn.put(session_id.encode(), encode_record(record), db=store.sessions_db)
        txn.put(session_id.encode(), encode_meta(meta), db=store.meta_db)

    store.write(write)
    return session_id


def emit_session(session: Session, events: Iterable[Planned], *, speed: float = 1.0,
                 rate: float | None = None) -> int:
    """Emit `events` through a live session, paced by their offsets / `speed`, or at `rate`/s."""
    start = time.monotonic()
    count = 0
    for offset, event_type, data in events:
        count += 1
        due = count / rate if rate else offset / 1000 / speed
        delay = start + due - time.monotonic()
        if delay > 0.0005:
            time.sleep(delay)
        session.emit(event_type, data)
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("store")
    parser.add_argument("--nodes", type=int, default=0, help="a flat plan of N nodes")
    parser.add_argument("--levels", type=int, default=1)
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--rate", type=float, default=0.0, help="events per second")
    parser.add_argument("--latency-ms", type=int, default=40)
    parser.add_argument("--fail", default="", help="comma-separated paths that fail")
    parser.add_argument("--retry", default="", help="comma-separated paths retried once")
    parser.add_argument("--retry-delay-ms", type=int, default=250)
    parser.add_argument("--wait-for-go", action="store_true",
                        help="after SESSION, wait for a line on stdin before emitting")
    options = parser.parse_args()
    fail = frozenset(filter(None, options.fail.split(",")))
    retry = frozenset(filter(None, options.retry.split(",")))
    if options.nodes:
        plan = flat_plan(options.nodes, options.levels, latency_ms=options.latency_ms, fail=fail,
                         retry=retry, retry_delay_ms=options.retry_delay_ms)
    else:
        plan = tree_plan(latency_ms=options.latency_ms, fail=fail, retry=retry,
                         retry_delay_ms=options.retry_delay_ms)
    runtime = ProgressRuntime.open(options.store)
    with runtime.session("context.generate", {"path": "."}) as session:
        print(f"SESSION {session.session_id}", flush=True)
        if options.wait_for_go:
            sys.stdin.readline()
        count = emit_session(session, generation_events(plan), speed=options.speed,
                             rate=options.rate or None)
        runtime.flush()
        print(f"EMITTED {count}", flush=True)
    runtime.close()
    print("DONE", flush=True)


if __name__ == "__main__":
    main()
