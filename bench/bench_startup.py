"""Start-up cost of `ctree`: the CPU time a short command pays before and while doing its work.

Method: each command runs as a fresh process, 10 times (`--runs`), and its CPU time (user +
system, from the kernel's accounting of the finished child) is recorded; the figure is the
median. The commands: `ctree --help`; `ctree sessions list` on a store of 100 ended sessions;
`ctree status` on a scanned 40-file workspace. The baselines, measured in the same run and the
same way: `python -c pass` (the interpreter's floor) and `python -c "import click"` (the
floor of any click program).

    .venv/bin/python bench/bench_startup.py [--quick] [--json PATH] [--dir PATH] [--runs N]
"""

from __future__ import annotations

import resource
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from common import Baseline, Report, Target, child_env, median, parse_args, temp_dir
from contextree.engine.workspace.layout import Workspace, init_workspace
from contextree.progress import ProgressRuntime

SESSIONS = 100
FILES = 40
TARGETS_MS = {"startup.help_ms": 80.0, "startup.sessions_list_ms": 150.0,
              "startup.status_ms": 200.0}


def ctree_command() -> list[str]:
    """The installed `ctree` script beside this interpreter, else `python -m contextree`."""
    script = Path(sys.executable).with_name("ctree")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "contextree"]


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


Command = tuple[Sequence[str], Mapping[str, str]]
"""What one figure runs: the argv and the environment."""


def run_once(command: Command, cwd: Path) -> float:
    """The CPU time of one run of `command`, in milliseconds; it must exit 0."""
    argv, env = command
    before = children_cpu_s()
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, check=False)
    spent = (children_cpu_s() - before) * 1000
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {result.returncode}: "
                         f"{result.stderr.decode(errors='replace')}")
    return spent


def cpu_ms(commands: Mapping[str, Command], cwd: Path, runs: int) -> dict[str, float]:
    """The median CPU time of `runs` runs of each command, in milliseconds; the runs are
    interleaved, after one untimed run of each (which fills the bytecode cache)."""
    for command in commands.values():
        run_once(command, cwd)
    samples: dict[str, list[float]] = {key: [] for key in commands}
    for _ in range(runs):
        for key, command in commands.items():
            samples[key].append(run_once(command, cwd))
    return {key: median(values) for key, values in samples.items()}


def build_workspace(root: Path) -> None:
    """A scanned workspace of `FILES` small modules whose store holds `SESSIONS` ended sessions."""
    for index in range(FILES):
        folder = root / "src" / f"pkg{index % 4}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"mod{index}.py").write_text(f"VALUE = {index}\n", encoding="utf-8")
    workspace = Workspace(root=root, store_path=root / ".ctree" / "store")
    init_workspace(workspace)
    runtime = ProgressRuntime.open(workspace.store_path)
    try:
        for index in range(SESSIONS):
            with runtime.session("bench.session", {"index": index}) as session:
                session.emit("command_summary", {"command": "bench.session", "ok": True,
                                                 "duration_ms": 1})
        runtime.flush()
    finally:
        runtime.close()
    subprocess.run([*ctree_command(), "scan"], cwd=root, capture_output=True, check=True)


MEASURED = {
    "startup.help_ms": ["--help"],
    "startup.sessions_list_ms": ["sessions", "list"],
    "startup.status_ms": ["status"],
}
"""Each figure's `ctree` arguments."""


def main() -> int:
    args = parse_args(__doc__ or "", [
        ("--runs", {"type": int, "default": 10, "help": "runs of each command"}),
        ("--before-src", {"metavar": "PATH", "help": "also measure this checkout's src folder"}),
        ("--compile-each-run", {"action": "store_true",
                                "help": "keep the environment's bytecode setting (no warm cache)"}),
    ])
    runs = 2 if args.quick else args.runs
    report = Report("bench_startup", args)
    cache = "the environment's bytecode setting" if args.compile_each_run else \
        "a warm bytecode cache"
    report.note(f"median CPU time (user + system) of {runs} fresh processes per command, "
                f"interleaved, with {cache}; {SESSIONS} sessions in the store, {FILES} files in "
                "the workspace")
    ctree = ctree_command()
    with temp_dir(args.dir, "bench-startup-") as root:
        build_workspace(root)
        env = child_env(root, warm_bytecode=not args.compile_each_run)
        commands: dict[str, Command] = {
            "floor": ([sys.executable, "-c", "pass"], env),
            "click": ([sys.executable, "-c", "import click"], env),
            **{key: ([*ctree, *argv], env) for key, argv in MEASURED.items()},
        }
        if args.before_src:
            before_env = child_env(root, warm_bytecode=not args.compile_each_run,
                                   src=Path(args.before_src).resolve())
            commands.update({key.replace("startup.", "startup.before."): ([*ctree, *argv],
                                                                         before_env)
                             for key, argv in MEASURED.items()})
        figures = cpu_ms(commands, root, runs)
        floors = [Baseline("python -c pass", figures["floor"], "ms"),
                  Baseline("import click", figures["click"], "ms")]
        for key, argv in MEASURED.items():
            report.row(key, figures[key], "ms", baselines=floors,
                       target=Target("<=", TARGETS_MS[key]), note=" ".join(argv))
            before_key = key.replace("startup.", "startup.before.")
            if before_key in figures:
                report.row(before_key, figures[before_key], "ms", baselines=floors,
                           note=f"{' '.join(argv)} ({args.before_src})")
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
