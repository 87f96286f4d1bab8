"""Shared helpers of the benchmarks: arguments, percentiles, temp stores and the report.

Every benchmark prints one figure line per measured quantity, in the same shape:

    <key>  <value> <unit>  | <baseline> <value> <unit> (ratio ×<r>) ...  | target <op> <t> PASS|MISS

`ratio` is always this figure divided by the baseline's, so for a rate higher is better and for
a latency lower is better. The last line is `SUMMARY <bench>: <n> PASS, <m> MISS`. `--json PATH`
also writes the rows as JSON (the README table is filled from those files).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

NODE_ID = "9f2c4b7e1a3d5f6b8c0e2a4d6f8b1c3e5a7d9f0b2c4e6a8d1f3b5c7e9a0d2f4b"
"""A realistic 64-hex node id for payloads."""

PAYLOAD = {"path": "src/a.py", "node_id": NODE_ID, "level_index": 2}
"""The realistic small payload the brief names for per-event measurements."""


def parse_args(description: str, extra: Sequence[tuple[str, dict[str, object]]] = ()) -> (
        argparse.Namespace):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true",
                        help="tiny counts: checks the benchmark runs, figures are meaningless")
    parser.add_argument("--json", metavar="PATH", help="also write the figure rows as JSON")
    parser.add_argument("--dir", metavar="PATH",
                        help="parent directory of the temporary stores (default: system temp)")
    for flag, options in extra:
        parser.add_argument(flag, **options)  # type: ignore[arg-type]
    return parser.parse_args()


def print_profile(fn: Callable[[], object], top: int = 15) -> None:
    """Run `fn` once under cProfile and print the `top` functions by own time."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    fn()
    profiler.disable()
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("tottime").print_stats(top)


def emit_paced(emit_one: Callable[[int], None], rate: int, seconds: float) -> int:
    """Call `emit_one(i)` for i = 0, 1, … at a steady `rate` per second for `seconds`,
    catching up in bursts when the caller falls behind; returns how many were emitted."""
    clock = time.perf_counter
    total = int(rate * seconds)
    interval = 1.0 / rate
    done = 0
    start = clock()
    while done < total:
        due = min(total, int((clock() - start) * rate) + 1)
        while done < due:
            emit_one(done)
            done += 1
        wait = start + done * interval - clock()
        if wait > 0:
            time.sleep(wait)
    return done


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0–100) by linear interpolation; `values` need not be sorted."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Sequence[float]) -> float:
    return percentile(values, 50.0)


@contextmanager
def temp_dir(parent: str | None, prefix: str) -> Iterator[Path]:
    """A fresh directory, removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def child_env(root: Path, *, warm_bytecode: bool = True,
              src: Path | None = None) -> dict[str, str]:
    """The environment of a measured `ctree` process. With `warm_bytecode`, a bytecode cache
    of its own under `root` (`PYTHONPYCACHEPREFIX`; `PYTHONDONTWRITEBYTECODE` dropped), as an
    installed copy has: the first run fills it, so a benchmark runs each command once untimed.
    `src` goes first on the import path when given."""
    env = dict(os.environ)
    if warm_bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(root / "pycache")
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(src), env.get("PYTHONPATH")]))
    return env


def machine_line() -> str:
    import lmdb
    import msgspec

    return (
        f"machine: {platform.machine()} {_cpu_model()} x{os.cpu_count()} cores, "
        f"Linux {platform.release()}, Python {platform.python_version()}, "
        f"lmdb {lmdb.__version__} (liblmdb {'.'.join(map(str, lmdb.version()))}), "
        f"msgspec {msgspec.__version__}; load average {_load()}"
    )


def _load() -> str:
    """The 1/5/15-minute load averages: other work on a shared machine skews the figures."""
    try:
        return "/".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "cpu"


@dataclass
class Baseline:
    label: str
    value: float
    unit: str


@dataclass
class Target:
    op: str  # "<=" or ">="
    value: float

    def met(self, value: float) -> bool:
        if math.isnan(value):
            return False
        return value <= self.value if self.op == "<=" else value >= self.value


@dataclass
class Row:
    key: str
    value: float
    unit: str
    note: str = ""
    baselines: list[Baseline] = field(default_factory=list)
    target: Target | None = None

    @property
    def status(self) -> str | None:
        if self.target is None:
            return None
        return "PASS" if self.target.met(self.value) else "MISS"


def fmt(value: float) -> str:
    if math.isnan(value):
        return "nan"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


class Report:
    """Collects and prints the figure rows of one benchmark."""

    def __init__(self, bench: str, args: argparse.Namespace) -> None:
        self.bench = bench
        self.args = args
        self.rows: list[Row] = []
        self.notes: list[str] = []
        quick = " (quick: counts too small for meaningful figures)" if args.quick else ""
        print(f"== {bench}{quick}")
        print(machine_line())
        sys.stdout.flush()

    def note(self, text: str) -> None:
        """A context line (method, counts, what a baseline is), printed at once."""
        self.notes.append(text)
        print(f"  # {text}")
        sys.stdout.flush()

    def row(
        self,
        key: str,
        value: float,
        unit: str,
        *,
        baselines: Iterable[Baseline] = (),
        target: Target | None = None,
        note: str = "",
    ) -> Row:
        row = Row(key, value, unit, note, list(baselines), target)
        self.rows.append(row)
        parts = [f"{key:<34} {fmt(value):>10} {unit:<6}"]
        for base in row.baselines:
            ratio = value / base.value if base.value else math.nan
            parts.append(f"| {base.label} {fmt(base.value)} {base.unit} (ratio ×{fmt(ratio)})")
        if target is not None:
            parts.append(f"| target {target.op} {fmt(target.value)} {unit} {row.status}")
        if note:
            parts.append(f"| {note}")
        print(" ".join(parts))
        sys.stdout.flush()
        return row

    def finish(self) -> int:
        passed = sum(1 for row in self.rows if row.status == "PASS")
        missed = sum(1 for row in self.rows if row.status == "MISS")
        print(f"SUMMARY {self.bench}: {passed} PASS, {missed} MISS")
        if self.args.json:
            data = {
                "bench": self.bench,
                "quick": bool(self.args.quick),
                "machine": machine_line(),
                "notes": self.notes,
                "rows": [
                    {**asdict(row), "status": row.status} for row in self.rows
                ],
            }
            Path(self.args.json).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        return 0
