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
from collections.abc import Sequence
from pathlib import Path

from common import Baseline, Report, Target, median, parse_args, temp_dir
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


def cpu_ms(argv: Sequence[str], cwd: Path, runs: int) -> float:
    """The median CPU time of `runs` runs of `argv`, in milliseconds; each must exit 0."""
    samples = []
    for _ in range(runs):
        before = children_cpu_s()
        result = subprocess.run(argv, cwd=cwd, capture_output=True, check=False)
        samples.append((children_cpu_s() - before) * 1000)
        if result.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} exited {result.returncode}: "
                             f"{result.stderr.decode(errors='replace')}")
    return median(samples)


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


def main() -> int:
    args = parse_args(__doc__ or "", [("--runs", {"type": int, "default": 10,
                                                  "help": "runs of each command"})])
    runs = 2 if args.quick else args.runs
    report = Report("bench_startup", args)
    report.note(f"median CPU time (user + system) of {runs} fresh processes per command; "
                f"{SESSIONS} sessions in the store, {FILES} files in the workspace")
    ctree = ctree_command()
    with temp_dir(args.dir, "bench-startup-") as root:
        build_workspace(root)
        python = [sys.executable, "-c", "pass"]
        floor = Baseline("python -c pass", cpu_ms(python, root, runs), "ms")
        click_floor = Baseline("import click",
                               cpu_ms([sys.executable, "-c", "import click"], root, runs), "ms")
        measured = {
            "startup.help_ms": [*ctree, "--help"],
            "startup.sessions_list_ms": [*ctree, "sessions", "list"],
            "startup.status_ms": [*ctree, "status"],
        }
        for key, argv in measured.items():
            report.row(key, cpu_ms(argv, root, runs), "ms", baselines=[floor, click_floor],
                       target=Target("<=", TARGETS_MS[key]), note=" ".join(argv[len(ctree):]))
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
