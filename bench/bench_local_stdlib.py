"""`local` generate on the Python standard library: CPU per node (SPEC §9: ≤ 3 ms).

Method: a copy of the running interpreter's standard library (`Lib/`, without site-packages
and `__pycache__`: about 2,450 files and 150 directories) is generated from scratch in a
fresh store with a no-op emitter (`generate_context`, default concurrency, the local
provider). The figure is the process CPU time (`time.process_time`, every thread) of the
whole call — scan, plan, reading files, frames, store — over the nodes generated; median of
`--rounds`. In the same run: the provider alone (`describe` over every node's request, built
beforehand, one thread) and the scan alone, both per node, so the share of each is visible.
`--profile` prints a cProfile of one more round; `--dump-frames PATH` writes every node's
frame (path, content, model, token counts; JSON lines sorted by path) so two versions of the
code can be compared with `cmp`: identical files mean no frame changed.

    .venv/bin/python bench/bench_local_stdlib.py [--quick] [--json PATH] [--rounds N]
        [--profile] [--dump-frames PATH]
"""

from __future__ import annotations

import json
import shutil
import sysconfig
import time
from pathlib import Path

from common import Baseline, Report, Target, median, parse_args, print_profile, temp_dir
from contextree.engine.generation.agents import resolve_agent
from contextree.engine.generation.frames import FrameStore
from contextree.engine.generation.generate import GenerateOptions, generate_context
from contextree.engine.generation.prompts import directory_request, file_request
from contextree.engine.providers.base import GenerationRequest
from contextree.engine.providers.local.provider import describe
from contextree.engine.workspace.config import load_config
from contextree.engine.workspace.layout import Workspace, init_workspace
from contextree.engine.workspace.scan import scan_workspace
from contextree.engine.workspace.tree import DIRECTORY, TreeStore
from contextree.progress import EventStore

QUICK_PACKAGES = ("json", "asyncio", "email")
SKIPPED = shutil.ignore_patterns("__pycache__", "site-packages", "*.pyc")


class NullEmitter:
    def emit(self, event_type: str, data: object = None, /) -> None:
        return None


def copy_stdlib(target: Path, quick: bool) -> None:
    source = Path(sysconfig.get_paths()["stdlib"])
    if not quick:
        shutil.copytree(source, target, ignore=SKIPPED, symlinks=True)
        return
    target.mkdir()
    for name in QUICK_PACKAGES:
        shutil.copytree(source / name, target / name, ignore=SKIPPED)


def generate_round(tree: Path, store_path: Path) -> tuple[float, int]:
    workspace = Workspace(root=tree, store_path=store_path)
    init_workspace(workspace)
    config = load_config(workspace)
    store = EventStore.open(store_path)
    try:
        started = time.process_time()
        outcome = generate_context(workspace, store, NullEmitter(), GenerateOptions(),
                                   config=config)
        cpu = time.process_time() - started
    finally:
        store.close()
    if not outcome.ok or outcome.generated != outcome.total_nodes:
        raise SystemExit(f"generation did not complete: {outcome.summary()}")
    return cpu, outcome.generated


def provider_only(tree: Path, store_path: Path) -> tuple[float, float, int]:
    """Scan CPU and `describe` CPU over every node (requests built outside the timing)."""
    workspace = Workspace(root=tree, store_path=store_path)
    config = load_config(workspace)
    agent = resolve_agent(config, None)
    store = EventStore.open(store_path)
    try:
        started = time.process_time()
        scan_workspace(workspace, store, NullEmitter(), config=config, force=True)
        scan_cpu = time.process_time() - started
        records = TreeStore(store).load_records()
        frames = FrameStore(store)
        requests: list[GenerationRequest] = []
        for record in records.values():
            if record.type == DIRECTORY:
                children = [records[path] for path in _child_paths(records, record.path)]
                heads = frames.heads((child.id for child in children), f"context-{agent.id}")
                requests.append(directory_request(record, children, heads, agent,
                                                  max_prompt_chars=262144))
            else:
                requests.append(file_request(tree, record, agent, max_file_bytes=262144))
        started = time.process_time()
        for request in requests:
            describe(request)
        describe_cpu = time.process_time() - started
    finally:
        store.close()
    return scan_cpu, describe_cpu, len(requests)


def dump_frames(tree: Path, store_path: Path, target: Path) -> int:
    """Write every node's head frame of the default agent to `target`; returns the count."""
    workspace = Workspace(root=tree, store_path=store_path)
    agent = resolve_agent(load_config(workspace), None)
    store = EventStore.open(store_path)
    try:
        records = TreeStore(store).load_records()
        heads = FrameStore(store).heads((record.id for record in records.values()),
                                        agent.frame_type)
    finally:
        store.close()
    with open(target, "w", encoding="utf-8") as out:
        for path in sorted(records):
            frame = heads.get(records[path].id)
            row = {"path": path, "content": None} if frame is None else {
                "path": path, "content": frame.content, "model": frame.model,
                "input_tokens": frame.input_tokens, "output_tokens": frame.output_tokens}
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return len(records)


def _child_paths(records: dict[str, object], path: str) -> list[str]:
    prefix = "" if path == "." else path + "/"
    return [other for other in records
            if other != path and other.startswith(prefix) and "/" not in other[len(prefix):]]


def main() -> int:
    args = parse_args(__doc__.splitlines()[0], [
        ("--rounds", {"type": int, "default": 3, "help": "rounds (median reported)"}),
        ("--profile", {"action": "store_true", "help": "print a cProfile of one more round"}),
        ("--dump-frames", {"metavar": "PATH", "help": "write every frame as JSON lines"}),
    ])
    rounds = 1 if args.quick else args.rounds
    report = Report("bench_local_stdlib", args)
    with temp_dir(args.dir, "bench-local-") as base:
        tree = base / "stdlib"
        copy_stdlib(tree, args.quick)
        figures = []
        for index in range(rounds):
            figures.append(generate_round(tree, base / f"store-{index}"))
        nodes = figures[0][1]
        cpu_per_node = median([cpu / count for cpu, count in figures]) * 1000
        if args.dump_frames:
            dumped = dump_frames(tree, base / "store-0", Path(args.dump_frames))
            report.note(f"{dumped} frames written to {args.dump_frames}")
        if args.profile:
            print_profile(lambda: generate_round(tree, base / "store-profile"), top=30)
        scan_cpu, describe_cpu, described = provider_only(tree, base / "store-0")
        report.note(f"{nodes} nodes (standard library copy), {rounds} round(s), provider local, "
                    "no-op emitter, default concurrency; CPU = process_time of all threads")
        report.row("local_generate.cpu_ms_per_node", cpu_per_node, "ms", target=Target("<=", 3.0),
                   baselines=[Baseline("describe() alone", describe_cpu / described * 1000, "ms"),
                              Baseline("scan alone", scan_cpu / described * 1000, "ms")])
    return report.finish()


if __name__ == "__main__":
    raise SystemExit(main())
