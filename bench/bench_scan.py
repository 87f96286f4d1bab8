"""Scanning: first scan vs unchanged rescan (SPEC §9: a rescan ≥ 10× faster than the first).

Method: two trees. A generated one (`--files`, default 5,000, in directories of about 20
files up to four levels deep, sizes 200 B – 64 KiB with a median near 4 KiB, mtimes set an
hour back as in a checkout) and a real one (`--tree`, default this venv's site-packages).
For each, `scan_workspace` runs through a real session into a fresh store:
  - first scan, page cache warm (the tree was just read or written);
  - first scan, page cache cold: every file's pages dropped first with
    `posix_fadvise(DONTNEED)` (what a first scan of a tree not read lately costs);
  - unchanged rescan, the median of `--repeat` runs; it must report `changed: false` and
    read no file;
  - forced rescan (`--force`: every file read again, nothing written).
  - bare walk: `os.scandir` of every directory and `DirEntry.stat()` of every file, nothing
    else — the system calls an unchanged rescan cannot avoid, so its speed is the ceiling of
    a rescan, and first-scan time / bare-walk time the best ratio this machine allows.
Each first scan is the baseline of the rescan in the same run; the ratio row carries the
target. An unchanged rescan costs one listing per directory and one `lstat` per file plus
loading the stored tree, and creates and writes no record, while a first scan reads and
hashes every byte.

    .venv/bin/python bench/bench_scan.py [--quick] [--json PATH] [--files N] [--tree PATH]
"""

from __future__ import annotations

import os
import random
import sysconfig
import time
from pathlib import Path

from common import Baseline, Report, Target, median, parse_args, print_profile, temp_dir
from contextree.engine.workspace.config import Config, load_config
from contextree.engine.workspace.ignore import BUILTIN_IGNORED_NAMES
from contextree.engine.workspace.layout import Workspace
from contextree.engine.workspace.scan import ScanResult, scan_workspace
from contextree.progress import ProgressRuntime

FILES_PER_DIRECTORY = 20
HOUR_AGO = time.time() - 3600


def generate_tree(root: Path, files: int, seed: int = 11) -> int:
    """Write `files` files of source-like sizes; return the bytes written."""
    rng = random.Random(seed)
    written = 0
    directories = [root]
    for index in range(files):
        if index % FILES_PER_DIRECTORY == 0:
            parent = rng.choice([d for d in directories if len(d.parts) - len(root.parts) < 4])
            directory = parent / f"pkg{index // FILES_PER_DIRECTORY}"
            directory.mkdir(parents=True)
            directories.append(directory)
        size = min(64 * 1024, max(200, int(rng.lognormvariate(8.3, 1.0))))
        path = directories[-1] / f"module_{index}.py"
        with path.open("wb") as handle:
            handle.write(rng.randbytes(size))
            handle.flush()
            os.fsync(handle.fileno())  # clean pages, so the cold run can drop them
        os.utime(path, (HOUR_AGO, HOUR_AGO))
        written += size
    return written


def drop_page_cache(root: Path) -> None:
    """Ask the kernel to forget the cached pages of every file under `root`."""
    for directory, _, names in os.walk(root):
        for name in names:
            try:
                fd = os.open(os.path.join(directory, name), os.O_RDONLY | os.O_NONBLOCK)
            except OSError:
                continue
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            except OSError:
                pass
            finally:
                os.close(fd)


def bare_walk(root: Path) -> int:
    """List every directory under `root` and `lstat` every other entry; return the count.

    Each directory is listed through a descriptor, so each `stat()` is an `fstatat` relative
    to it: the cheapest way to these facts from Python, and the one the scanner uses. The
    built-in ignored names are left out, as the scanner leaves them out.
    """
    count = 0
    stack = [os.fspath(root)]
    while stack:
        directory = stack.pop()
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            with os.scandir(fd) as listing:
                for entry in listing:
                    if entry.name in BUILTIN_IGNORED_NAMES:
                        continue
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(os.path.join(directory, entry.name))
                    else:
                        entry.stat(follow_symlinks=False)
                        count += 1
        finally:
            os.close(fd)
    return count


def timed_bare_walk(root: Path) -> float:
    started = time.perf_counter()
    bare_walk(root)
    return time.perf_counter() - started


def timed_scan(
    workspace: Workspace, store: Path, config: Config, *, force: bool = False
) -> tuple[float, ScanResult]:
    """Seconds for one `scan_workspace` in a real session on the store at `store`."""
    with ProgressRuntime.open(store) as runtime, runtime.session("scan") as session:
        started = time.perf_counter()
        result = scan_workspace(workspace, runtime.store, session, force=force, config=config)
        elapsed = time.perf_counter() - started
    return elapsed, result


def measure_tree(report: Report, label: str, root: Path, scratch: Path, repeat: int) -> None:
    config = load_config(None, user_path=scratch / "no-user-config.toml")
    workspace = Workspace(root=root.resolve(), store_path=scratch / f"{label}-store")
    first_s, first = timed_scan(workspace, workspace.store_path, config)
    drop_page_cache(root)
    cold_s, cold = timed_scan(workspace, scratch / f"{label}-cold-store", config)
    rescans, bare_walks = [], []
    for _ in range(repeat):  # interleaved, so that both see the same machine
        rescans.append(timed_scan(workspace, workspace.store_path, config))
        bare_walks.append(timed_bare_walk(root))
    bare_s = median(bare_walks)
    forced_s, _ = timed_scan(workspace, workspace.store_path, config, force=True)
    files = first.counts.file_count
    for _, rescan in rescans:
        assert rescan.changed is False and rescan.counts.files_rehashed == 0, rescan
        assert rescan.root_id == first.root_id == cold.root_id
    rescan_s = median([seconds for seconds, _ in rescans])
    report.note(
        f"{label}: {files:,} files, {first.counts.dir_count:,} directories, "
        f"{first.counts.bytes_hashed / 1e6:.1f} MB, {len(first.skipped)} skipped ({root})"
    )
    warm_rate, cold_rate = files / first_s, files / cold_s
    report.row(f"{label} first scan (warm)", warm_rate, "files/s")
    report.row(f"{label} first scan (cold cache)", cold_rate, "files/s")
    report.row(f"{label} forced rescan", files / forced_s, "files/s",
               baselines=[Baseline("first (warm)", warm_rate, "files/s")])
    report.row(
        f"{label} unchanged rescan", files / rescan_s, "files/s",
        baselines=[Baseline("first (warm)", warm_rate, "files/s"),
                   Baseline("first (cold)", cold_rate, "files/s"),
                   Baseline("bare walk", files / bare_s, "files/s")],
        note=f"median of {repeat}, {rescan_s * 1000:.1f} ms",
    )
    report.row(f"{label} bare walk (ceiling of a rescan)", files / bare_s, "files/s",
               baselines=[Baseline("first (warm)", warm_rate, "files/s")],
               note=f"median of {repeat}, {bare_s * 1000:.1f} ms")
    report.row(f"{label} rescan speed-up vs warm first", first_s / rescan_s, "×",
               target=Target(">=", 10))
    report.row(f"{label} rescan speed-up vs cold first", cold_s / rescan_s, "×",
               target=Target(">=", 10))


def main() -> int:
    args = parse_args(
        __doc__.splitlines()[0],
        [
            ("--files", {"type": int, "default": 5000, "help": "files in the generated tree"}),
            ("--tree", {"default": sysconfig.get_paths()["purelib"], "help": "a real tree"}),
            ("--repeat", {"type": int, "default": 5, "help": "unchanged rescans to time"}),
            ("--profile", {"action": "store_true", "help": "profile one unchanged rescan"}),
        ],
    )
    files = 200 if args.quick else args.files
    report = Report("bench_scan", args)
    report.note("ratio rows: first-scan time / unchanged-rescan time, same tree, same run")
    with temp_dir(args.dir, "ctree-bench-scan-") as scratch:
        generated = scratch / "generated"
        size = generate_tree(generated, files)
        report.note(f"generated tree written: {files:,} files, {size / 1e6:.1f} MB")
        measure_tree(report, "generated", generated, scratch, 2 if args.quick else args.repeat)
        if not args.quick:
            measure_tree(report, "real", Path(args.tree), scratch, args.repeat)
        if args.profile:
            _profile_rescan(generated, scratch)
    return report.finish()


def _profile_rescan(root: Path, scratch: Path) -> None:
    config = load_config(None, user_path=scratch / "no-user-config.toml")
    workspace = Workspace(root=root.resolve(), store_path=scratch / "generated-store")

    def rescan() -> object:
        return timed_scan(workspace, workspace.store_path, config)

    print_profile(rescan)


if __name__ == "__main__":
    raise SystemExit(main())
