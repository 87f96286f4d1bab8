"""The store at scale (issue 14, point 8; SPEC §9: follow latency with 8 writer processes on one
store within 2× of 8 writers on separate stores; prune ≥ 10× faster per session than one
transaction per session; `sessions show`/`replay` of a 1M-event session under 150 MB).

Sections (`--only` picks some; `--scale F` multiplies every count, e.g. 0.1 for a shorter run):
- `list`: `ctree sessions list --all` and `--json` of 1k/10k/50k ended sessions;
- `reads`: `ctree sessions show`/`replay`/`events last` of 1k/100k/1M-event sessions;
- `prune`: 2,000 sessions of 100 events pruned to the newest 10 %: `EventStore.prune`
  (batched) vs a copy pruned one write transaction per session (the old path); `data.mdb`
  before and after the prune and after `compact`; bytes per stored event (pages in use);
- `writer`: peak RSS (`VmHWM`) of a process emitting 1M events as fast as it can;
- `follow`: follow latency with 1/4/8 writer processes at 1,000 events/s each, on one store
  vs one store each (see `scale_follow.py`).
Every `ctree` command runs as a real process (`bench_reads.measure`: median CPU of the rounds, peak
`RssAnon` sampled every 2 ms), beside `ctree --help` measured the same way.

    .venv/bin/python bench/bench_scale.py [--quick] [--scale F] [--only list,reads,...]
        [--rounds N] [--json PATH] [--dir PATH]
"""

from __future__ import annotations

import argparse

from common import Baseline, Report, Target, parse_args, temp_dir
from scale_follow import FollowResult, describe, run_config, writer
from scale_store import (
    big_writer,
    list_section,
    prune_section,
    reads_section,
    writer_section,
)

SECTIONS = ("list", "reads", "prune", "writer", "follow")


def follow_section(report: Report, args: argparse.Namespace) -> None:
    rate = 1_000
    seconds = 1.0 if args.quick else max(1.0, 5.0 * args.scale)
    counts = [2] if args.quick else [int(n) for n in args.writers.split(",")]
    report.note(f"follow: writers at {rate:,} events/s each for {seconds:g} s; this process "
                "follows every writer's session; percentiles over all their events")
    rounds = 1 if args.quick else args.rounds
    report.note(f"follow: {rounds} round(s), each runs separate stores then one store; "
                "figures pooled over the rounds")
    for count in counts:
        results = {False: FollowResult(), True: FollowResult()}
        for _ in range(rounds):
            for shared in (False, True):
                with temp_dir(args.dir, "bench-scale-follow-") as root:
                    results[shared].merge(run_config(__file__, root, count, shared, rate,
                                                     seconds))
        for shared in (False, True):
            layout = "one store" if shared else "separate stores"
            report.note(f"{count} writer(s), {layout}: {describe(results[shared])}")
        separate, one = results[False], results[True]
        report.row(f"scale.follow.{count}w.separate_p95_ms", separate.p95, "ms",
                   note=f"p50 {separate.p50:.1f} ms")
        target = Target("<=", 2 * separate.p95) if count == counts[-1] else None
        report.row(f"scale.follow.{count}w.one_store_p95_ms", one.p95, "ms",
                   baselines=[Baseline("separate stores", separate.p95, "ms")], target=target,
                   note=f"p50 {one.p50:.1f} ms")


def main() -> int:
    args = parse_args(
        (__doc__ or "").splitlines()[0],
        [
            ("--scale", {"type": float, "default": 1.0,
                         "help": "multiplies every count and duration (default 1)"}),
            ("--only", {"default": ",".join(SECTIONS), "help": "comma-separated sections"}),
            ("--writers", {"default": "1,4,8", "help": "writer counts of the follow section"}),
            ("--rounds", {"type": int, "default": 2,
                          "help": "rounds per command and of the follow section (default 2)"}),
            ("--role", {"default": "bench", "help": argparse.SUPPRESS}),
            ("--store", {"default": None, "help": argparse.SUPPRESS}),
            ("--rate", {"type": int, "default": 1_000, "help": argparse.SUPPRESS}),
            ("--seconds", {"type": float, "default": 1.0, "help": argparse.SUPPRESS}),
            ("--events", {"type": int, "default": 0, "help": argparse.SUPPRESS}),
        ],
    )
    if args.role == "follow-writer":
        return writer(args.store, args.rate, args.seconds)
    if args.role == "big-writer":
        return big_writer(args.store, args.events)
    report = Report("bench_scale", args)
    wanted = args.only.split(",")
    quick, scale = args.quick, args.scale
    rounds = 1 if quick else args.rounds

    def scaled(*counts: int) -> list[int]:
        return [max(10, int(count * scale)) for count in counts]

    if "list" in wanted:
        list_section(report, args.dir, [200] if quick else scaled(1_000, 10_000, 50_000), rounds)
    if "reads" in wanted:
        reads_section(report, args.dir, [1_000] if quick else scaled(1_000, 100_000, 1_000_000),
                      rounds)
    if "prune" in wanted:
        sessions, events = (100, 20) if quick else (scaled(2_000)[0], 100)
        prune_section(report, args.dir, sessions, events)
    if "writer" in wanted:
        writer_section(report, __file__, args.dir,
                       20_000 if quick else scaled(1_000_000)[0])
    if "follow" in wanted:
        follow_section(report, args)
    return report.finish()


if __name__ == "__main__":
    raise SystemExit(main())
