"""Context generation of a 2,000-file tree with the `local` provider: throughput, and how much
of the wall time the observability path takes.

Method: a generated tree (`--files`, default 2,000 Python modules of 20–120 lines with
docstrings, functions and classes, 20 files a directory, up to three levels deep, mtimes an
hour back). Each round generates it from scratch twice, in fresh stores, alternating order:
  - **observed**: `generate_context` in a real `context.generate` session (scan, plan, queue,
    local provider, frames group-committed), every event going through `Session.emit` and the
    ingestor into LMDB; the wall time runs from the call to the final `flush()` returning
    (every event durable). The session's `emit` is wrapped to time each call on the caller.
  - **no-op emitter** (the baseline): the same generation into the same kind of store with
    an emitter that drops every event — the engine alone.
Figures are medians over rounds. The observability share is reported two ways: time inside
`emit` plus the final `flush()` over the observed wall time (what the caller pays directly),
and observed wall over no-op wall (everything, including the ingestor thread competing for
the GIL and the disk).

    .venv/bin/python bench/bench_generate.py [--quick] [--json PATH] [--files N] [--rounds N]
"""

from __future__ import annotations

import os
import random
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from common import Baseline, Report, median, parse_args, temp_dir
from contextree.engine.generation.generate import GenerateOptions, generate_context
from contextree.engine.generation.orchestrator import GenerationOutcome
from contextree.engine.workspace.config import load_config
from contextree.engine.workspace.layout import Workspace, init_workspace
from contextree.progress import EventStore, ProgressRuntime, Session

FILES_PER_DIRECTORY = 20
HOUR_AGO = time.time() - 3600
WORDS = ("parse", "load", "store", "render", "merge", "split", "check", "build", "scan", "emit")


def module_text(rng: random.Random, index: int) -> str:
    """A plausible Python module: a docstring, constants, functions and a class."""
    lines = [f'"""Module {index}: {rng.choice(WORDS)}s and {rng.choice(WORDS)}s records."""',
             "", "from __future__ import annotations", "", f"LIMIT_{index} = {rng.randint(1, 999)}",
             ""]
    for number in range(rng.randint(2, 8)):
        name = f"{rng.choice(WORDS)}_{number}"
        lines += ["", f"def {name}(value: int, *, scale: int = 2) -> int:",
                  f'    """{name.capitalize()} one value."""', "    total = value * scale",
                  "    return total + 1", ""]
    lines += ["", f"class Worker{index}:", '    """Holds state for one run."""', "",
              "    def run(self) -> None:", "        return None", ""]
    return "\n".join(lines)


def generate_tree(root: Path, files: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    directories = [root]
    for index in range(files):
        if index % FILES_PER_DIRECTORY == 0:
            parent = rng.choice([d for d in directories if len(d.parts) - len(root.parts) < 3])
            directory = parent / f"pkg{index // FILES_PER_DIRECTORY}"
            directory.mkdir(parents=True)
            directories.append(directory)
        path = directories[-1] / f"module_{index}.py"
        path.write_text(module_text(rng, index), encoding="utf-8")
        os.utime(path, (HOUR_AGO, HOUR_AGO))


class TimedEmitter:
    """Forwards to a session, timing each `emit` on the caller."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.seconds = 0.0
        self.count = 0

    def emit(self, event_type: str, data: Mapping[str, Any] | None = None, /) -> None:
        started = time.perf_counter()
        self.session.emit(event_type, data)
        self.seconds += time.perf_counter() - started
        self.count += 1


class NullEmitter:
    def emit(self, event_type: str, data: Mapping[str, Any] | None = None, /) -> None:
        return None


def fresh_workspace(root: Path, name: str) -> Workspace:
    workspace = Workspace(root=root, store_path=root.parent / f"store-{name}")
    init_workspace(workspace)
    return workspace


def observed_run(workspace: Workspace) -> dict[str, float]:
    config = load_config(workspace)
    with ProgressRuntime.open(workspace.store_path) as runtime:
        started = time.perf_counter()
        with runtime.session("context.generate", workspace=workspace.root) as session:
            emitter = TimedEmitter(session)
            outcome = generate_context(workspace, session.store, emitter, GenerateOptions(),
                                       config=config)
            flush_started = time.perf_counter()
            runtime.flush()
            flush_s = time.perf_counter() - flush_started
        wall = time.perf_counter() - started
        meta = runtime.store.get_meta(session.session_id)
    _check(outcome)
    return {"wall": wall, "emit": emitter.seconds, "flush": flush_s,
            "events": float(meta.event_count if meta else emitter.count + 2),
            "nodes": float(outcome.generated)}


def noop_run(workspace: Workspace) -> dict[str, float]:
    config = load_config(workspace)
    store = EventStore.open(workspace.store_path)
    try:
        started = time.perf_counter()
        outcome = generate_context(workspace, store, NullEmitter(), GenerateOptions(),
                                   config=config)
        wall = time.perf_counter() - started
    finally:
        store.close()
    _check(outcome)
    return {"wall": wall, "nodes": float(outcome.generated)}


def _check(outcome: GenerationOutcome) -> None:
    if not outcome.ok or outcome.generated != outcome.total_nodes:
        raise SystemExit(f"generation did not complete: {outcome.summary()}")


def main() -> int:
    args = parse_args(__doc__.splitlines()[0], [
        ("--files", {"type": int, "default": 2000, "help": "files in the generated tree"}),
        ("--rounds", {"type": int, "default": 3, "help": "rounds (median reported)"}),
    ])
    files = 100 if args.quick else args.files
    rounds = 1 if args.quick else args.rounds
    report = Report("bench_generate", args)
    observed: list[dict[str, float]] = []
    baseline: list[dict[str, float]] = []
    with temp_dir(args.dir, "bench-generate-") as base:
        tree = base / "tree"
        tree.mkdir()
        generate_tree(tree, files)
        report.note(f"{files} files, {rounds} round(s), provider local, default concurrency; "
                    "each round: an observed run and a no-op-emitter run, fresh stores, "
                    "alternating order; medians over rounds")
        for index in range(rounds):
            runs = [("observed", observed_run, observed), ("noop", noop_run, baseline)]
            for name, run, into in runs if index % 2 == 0 else reversed(runs):
                for leftover in base.glob("store-*"):
                    _remove(leftover)
                into.append(run(fresh_workspace(tree, f"{name}-{index}")))
    nodes = median([run["nodes"] for run in observed])
    wall = median([run["wall"] for run in observed])
    noop_wall = median([run["wall"] for run in baseline])
    events = median([run["events"] for run in observed])
    direct = median([(run["emit"] + run["flush"]) / run["wall"] for run in observed])
    report.note(f"{int(nodes)} nodes generated per run, {int(events)} events "
                f"({events / nodes:.2f} per node)")
    report.row("generate.nodes_per_s", nodes / wall, "nodes/s",
               baselines=[Baseline("no-op emitter", nodes / noop_wall, "nodes/s")])
    report.row("generate.events_per_s", events / wall, "ev/s",
               note="durable events per second of observed wall time")
    report.row("generate.wall_s", wall, "s",
               baselines=[Baseline("no-op emitter", noop_wall, "s")],
               note="scan + plan + generate + final flush")
    report.row("generate.obs_share_direct_pct", direct * 100, "%",
               note="time inside emit() + final flush() / observed wall")
    report.row("generate.obs_share_total_pct", (wall - noop_wall) / wall * 100, "%",
               note="(observed wall - no-op wall) / observed wall")
    report.row("generate.emit_us_per_event",
               median([run["emit"] / run["events"] * 1e6 for run in observed]), "µs",
               note="mean caller cost of one emit during generation")
    return report.finish()


def _remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
