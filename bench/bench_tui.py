"""The TUI under load, headless (SPEC §9: emit → painted p95 ≤ 100 ms at 5,000 events/s, no
frame over 50 ms; a 10,000-node session opens and scrolls smoothly).

Method. (1) Live: a writer **subprocess** (`tests/tui/synthetic.py`) emits a realistic
`context.generate` session through `ProgressRuntime` at a steady 5,000 events/s; the app runs
headless (`App.run_test`, 160×45) following it in the session view. Each live event painted
gives `time painted − event ts` (painted = the screen refresh after the frame that applied it,
`call_after_refresh`; `ts` is stamped at emit in the writer, milliseconds, truncated, so figures
read up to 1 ms high). The longest frame is the longest time the app's event loop was busy
without a break, measured by a task that wakes every 2 ms and records how late it woke. The
same run, with the same writer, is repeated with the view in per-event mode (apply one event,
repaint, wait for the screen, next) as a naive baseline; the seed's 150/500 ms targets are the
other baseline. (2) Large: a stored 10,000-node session (~60,000 events) is opened (stored
events read and reduced on the feed thread, until the view is complete on screen: every row,
the detail with its content, the footer with the session's keys lit) and paged through, 3
times (the open time is the median, the pages are pooled), each app in an event loop of its
own; the baselines are the same app on the interpreter's defaults (without `tui/tuning.py`),
taking turns with it, and a Textual `DataTable` filled with the same 10,000 rows. The live
figures start once the followed session's view is complete, and use a meter that keeps every
sample beside the app's own (which sorts only the newest 200 per frame).

(3) First paint: `ctree tui` on a fresh workspace started in a pseudo-terminal (160×45), the
wall time until the dashboard's first box title is on its screen; the baseline is a bare
Textual app (one line of text and a footer) timed the same way. Median of 5, interleaved.

    .venv/bin/python bench/bench_tui.py [--quick] [--json PATH] [--dir PATH]
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from common import (
    ROOT,
    Baseline,
    Report,
    Target,
    child_env,
    median,
    parse_args,
    percentile,
    temp_dir,
)

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.pseudo_terminal import (
    drain_until_exit,
    open_pty,
    read_screen_until,
    start_in_pty,
    terminal_env,
)
from tests.tui.synthetic import T0, fixed_ulid, flat_plan, generation_events, write_session
from textual._styles_cache import StylesCache
from textual.app import App, ComposeResult
from textual.widgets import DataTable

import contextree.tui.app as app_module
import contextree.tui.feeds as feeds_module
import contextree.tui.views.session as session_module
from contextree.progress import Event, EventStore
from contextree.progress.reducer import apply_event
from contextree.tui.app import CtreeApp
from contextree.tui.feeds import FeedBatch
from contextree.tui.format import ts_epoch
from contextree.tui.freshness import FreshnessMeter
from contextree.tui.tuning import UiTuning
from contextree.tui.views.session import SessionView
from contextree.tui.widgets.key_footer import ToggleKey
from contextree.tui.widgets.node_detail import NodeDetail
from contextree.tui.widgets.node_list import NodeList

SIZE = (160, 45)
RATE = 5_000
SEED_P50_MS, SEED_P95_MS = 150.0, 500.0


class PerEventSessionView(SessionView):
    """The naive baseline: apply one event, repaint, wait for the screen, then the next."""

    backlog: deque[Event]

    def apply_batch(self, batch: FeedBatch) -> None:
        if not hasattr(self, "backlog"):
            self.backlog = deque()
        self.backlog.extend(batch.events)
        self.finish_batch(batch, [])
        self._paint_next(batch.live)

    def _paint_next(self, live: bool) -> None:
        if not self.backlog or self.state is None:
            return
        event = self.backlog.popleft()
        apply_event(self.state, event)
        self._repaint()
        self.call_after_refresh(self._painted, [ts_epoch(event.ts) or 0.0] if live else [])
        if self.backlog:
            self.call_after_refresh(self._paint_next, live)


APP_CSS = str(Path(app_module.__file__).with_name(CtreeApp.CSS_PATH))  # type: ignore[arg-type]


class PerEventApp(CtreeApp):
    CSS_PATH = APP_CSS  # a relative path would be read beside this file
    session_view_class = PerEventSessionView


class NoTuning(UiTuning):
    """Leaves the interpreter as it is (5 ms switch interval, collection every 700
    allocations)."""

    def apply(self) -> None:
        pass


class UntunedApp(CtreeApp):
    """The app on the interpreter's defaults: no `UiTuning`, and its feeds build a state with
    the collector running (see `untuned_feeds`)."""

    CSS_PATH = APP_CSS

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.tuning = NoTuning()


@contextlib.contextmanager
def untuned_feeds() -> Iterator[None]:
    """Feeds that build their state with automatic collection on and freeze nothing."""
    saved = feeds_module.building_state
    feeds_module.building_state = contextlib.nullcontext  # type: ignore[assignment]
    try:
        yield
    finally:
        feeds_module.building_state = saved


class RecordingMeter(FreshnessMeter):
    """The app's meter (the newest 200 samples, for the status bar) that also keeps every
    sample for the figures: a meter over all of them would sort 30,000 per frame."""

    def __init__(self) -> None:
        super().__init__()
        self.every: list[float] = []

    def __len__(self) -> int:
        return len(self.every)

    def add(self, painted_s: float, emitted_s: Iterable[float]) -> None:
        emitted = list(emitted_s)
        super().add(painted_s, emitted)
        self.every.extend(max(0.0, (painted_s - epoch) * 1000) for epoch in emitted)


class LoopLag:
    """Records how late a 2 ms sleep wakes: the longest stretch the event loop was busy."""

    def __init__(self) -> None:
        self.lags_ms: list[float] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _run(self) -> None:
        while True:
            start = time.perf_counter()
            await asyncio.sleep(0.002)
            self.lags_ms.append(max(0.0, (time.perf_counter() - start - 0.002) * 1000))


def start_writer(store: Path, nodes: int, rate: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.tui.synthetic", str(store), "--nodes", str(nodes),
         "--levels", "4", "--rate", str(rate), "--wait-for-go"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'src'}"},
    )


def read_line(process: subprocess.Popen[str], prefix: str) -> str:
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith(prefix):
            return line[len(prefix):].strip()
    raise RuntimeError(f"writer exited (rc={process.wait()}) before {prefix!r}")


async def wait_for(condition: Callable[[], object], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.005)
    return True


async def follow_live(parent: Path, nodes: int, *, per_event: bool,
                      drain_timeout: float) -> dict[str, Any]:
    """Follow a writer at RATE events/s; latencies of every live event painted, loop lags."""
    with temp_dir(str(parent), "bench-tui-live-") as directory:
        store_path = directory / "store"
        writer = start_writer(store_path, nodes, RATE)
        try:
            session_id = read_line(writer, "SESSION ")
            store = EventStore.open(store_path, create=False)
            app_class = PerEventApp if per_event else CtreeApp
            app = app_class(store=store, session_id=session_id)
            session_module.FRESHNESS_WINDOW = 10**9  # measure every event, not the newest 200
            async with app.run_test(size=SIZE) as pilot:
                view = app.session_view
                meter = view.freshness = RecordingMeter()
                await wait_for(lambda: view.state is not None, 30)
                await pilot.pause()  # the open's last frames (footer, detail) are the open's
                await after_refresh(app)
                lag = LoopLag()
                lag.start()
                assert writer.stdin is not None
                writer.stdin.write("go\n")
                writer.stdin.flush()
                emitted = int(await asyncio.to_thread(read_line, writer, "EMITTED "))
                drained = await wait_for(
                    lambda: view.state is not None and view.state.event_count >= emitted + 1
                    and len(view.freshness) >= emitted - 1, drain_timeout)
                lag.stop()
                await pilot.pause()
                samples = sorted(meter.every)
                painted = len(samples)
            store.close()
            read_line(writer, "DONE")
        finally:
            if writer.poll() is None:
                writer.kill()
            writer.wait()
    return {"samples": samples, "lags": lag.lags_ms, "emitted": emitted, "painted": painted,
            "drained": drained}


class TableApp(App[None]):
    """The baseline: a DataTable holding the same rows."""

    def __init__(self, rows: list[tuple[str, ...]]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        yield DataTable(cursor_type="row")


async def after_refresh(app: App[Any]) -> None:
    done = asyncio.Event()
    app.call_after_refresh(done.set)
    await done.wait()


async def page_times(app: App[Any], page: Callable[[], None], pages: int) -> list[float]:
    times = []
    for _ in range(pages):
        start = time.perf_counter()
        page()
        await after_refresh(app)
        times.append((time.perf_counter() - start) * 1000)
    return times


def fresh_heap() -> None:
    """Start a run on the heap of a fresh process: Textual's `StylesCache.get_inner_outer`
    is an `lru_cache` on a method, so it keeps up to 1,024 widgets' style caches (with their
    rendered lines) of earlier runs' apps alive (Textual issue #6665), and every full
    collection of the next run walked them; then collect the earlier runs' garbage."""
    StylesCache.get_inner_outer.cache_clear()
    gc.collect()


def view_complete(app: CtreeApp, nodes: int) -> bool:
    """The session is open as a person sees it: every row listed, the detail showing the
    cursor's node with its content answered, the footer showing the session's level keys
    lit (they are shown dimmed while the session loads)."""
    view = app.session_view
    detail = view.query_one(NodeDetail)
    return (view.query_one(NodeList).row_count == nodes and detail.settled
            and detail.content_answered
            and any(key.description == "Level ←" and key.enabled
                    for key in app.query(ToggleKey)))


async def large_session(parent: Path, nodes: int, pages: int,
                        app_class: type[CtreeApp] = CtreeApp) -> dict[str, Any]:
    """Open a stored session of `nodes` nodes and page through it: the open time (until
    `view_complete`, painted), each page's time, and the rows (for the DataTable baseline)."""
    with temp_dir(str(parent), "bench-tui-large-") as directory:
        store = EventStore.open(directory / "store")
        plan = flat_plan(nodes, levels=1, concurrency=64)
        session_id = write_session(store, generation_events(plan), session_id=fixed_ulid(T0, 1))
        events = len(store.read_events(session_id))
        fresh_heap()
        app = app_class(store=store, auto_follow=False)
        async with app.run_test(size=SIZE):
            view = app.session_view
            node_list = view.query_one(NodeList)
            start = time.perf_counter()
            app.open_session(session_id)
            await wait_for(lambda: view_complete(app, nodes), 120)
            await after_refresh(app)
            open_ms = (time.perf_counter() - start) * 1000
            scroll = await page_times(app, lambda: node_list.action_page(1), pages)
        store.close()
        rows = [(node.path, node.status, f"{node.duration_ms} ms")
                for node in (view.state.nodes.values() if view.state else [])]
    return {"nodes": nodes, "events": events, "open_ms": open_ms, "scroll": scroll,
            "rows": rows}


async def table_baseline(rows: list[tuple[str, ...]], pages: int) -> dict[str, Any]:
    """A Textual `DataTable` filled with the same rows, and paged through the same way."""
    table_app = TableApp(rows)
    async with table_app.run_test(size=SIZE):
        table = table_app.query_one(DataTable)
        start = time.perf_counter()
        table.add_columns("path", "status", "duration")
        table.add_rows(rows)
        await after_refresh(table_app)
        open_ms = (time.perf_counter() - start) * 1000
        table.focus()
        scroll = await page_times(table_app, table.action_page_down, pages)
    return {"open_ms": open_ms, "scroll": scroll}


def large_runs(parent: Path, nodes: int, pages: int, runs: int
               ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """`runs` runs of the app and of the untuned app, taking turns, then the DataTable once;
    the open time is the median of the runs, the pages are pooled. Each app runs in an event
    loop of its own, as in a process of its own: a loop's worker threads started while an
    app redirected stderr keep that app alive (a thread remembers the stderr it started
    with), and the next run's collections would walk it."""
    ours: list[dict[str, Any]] = []
    untuned: list[dict[str, Any]] = []
    for _ in range(runs):
        ours.append(asyncio.run(large_session(parent, nodes, pages)))
        with untuned_feeds():
            untuned.append(asyncio.run(large_session(parent, nodes, pages, UntunedApp)))
    table = asyncio.run(table_baseline(ours[0]["rows"], pages))

    def pooled(results: list[dict[str, Any]]) -> dict[str, Any]:
        return {**results[0], "open_ms": median([result["open_ms"] for result in results]),
                "scroll": [page for result in results for page in result["scroll"]],
                "runs": len(results)}

    return pooled(ours), pooled(untuned), table


def report_live(report: Report, live: dict[str, Any], naive: dict[str, Any]) -> None:
    samples, naive_samples = live["samples"], naive["samples"]
    report.note(f"live: {live['emitted']:,} events emitted at {RATE:,}/s, {live['painted']:,} "
                f"painted live, drained: {live['drained']}; per-event baseline: "
                f"{naive['painted']:,} of {naive['emitted']:,} painted, drained: "
                f"{naive['drained']}")
    p50, p95 = percentile(samples, 50), percentile(samples, 95)
    naive_p50, naive_p95 = percentile(naive_samples, 50), percentile(naive_samples, 95)
    report.row("tui.live5k.p50_ms", p50, "ms", baselines=[
        Baseline("seed target", SEED_P50_MS, "ms"), Baseline("per-event paint", naive_p50, "ms")])
    report.row("tui.live5k.p95_ms", p95, "ms", target=Target("<=", 100.0), baselines=[
        Baseline("seed target", SEED_P95_MS, "ms"), Baseline("per-event paint", naive_p95, "ms")])
    report.row("tui.live5k.max_ms", max(samples, default=float("nan")), "ms",
               baselines=[Baseline("per-event paint", max(naive_samples, default=0.0), "ms")])
    lags, naive_lags = live["lags"], naive["lags"]
    report.row("tui.live5k.longest_frame_ms", max(lags, default=float("nan")), "ms",
               target=Target("<=", 50.0),
               baselines=[Baseline("per-event paint", max(naive_lags, default=0.0), "ms")])
    report.row("tui.live5k.frames_over_50ms", float(sum(1 for lag in lags if lag > 50)),
               "frames", note=f"loop-lag p99 {percentile(lags, 99):.1f} ms")


def report_large(report: Report, large: dict[str, Any], untuned: dict[str, Any],
                 table: dict[str, Any]) -> None:
    report.note(f"large: {large['nodes']:,} nodes, {large['events']:,} stored events; open: "
                f"median of {large['runs']} runs, pages: all {len(large['scroll'])} of them "
                f"pooled; the untuned "
                f"baseline is the same app on the interpreter's defaults (no tui/tuning.py: "
                f"5 ms switch interval, collection every 700 allocations, the loaded state "
                f"walked by every full collection)")
    report.row("tui.large10k.open_ms", large["open_ms"], "ms", target=Target("<=", 500.0),
               baselines=[Baseline("DataTable fill", table["open_ms"], "ms"),
                          Baseline("untuned", untuned["open_ms"], "ms")],
               note="read + reduce on the feed thread, then the view complete on screen")
    report.row("tui.large10k.page_median_ms", median(large["scroll"]), "ms",
               baselines=[Baseline("DataTable page", median(table["scroll"]), "ms"),
                          Baseline("untuned", median(untuned["scroll"]), "ms")])
    report.row("tui.large10k.page_max_ms", max(large["scroll"]), "ms", target=Target("<=", 50.0),
               baselines=[Baseline("DataTable page", max(table["scroll"]), "ms"),
                          Baseline("untuned", max(untuned["scroll"]), "ms")])


FIRST_PAINT_MARKER = "Active operations"
"""A box title of the dashboard, the view `ctree tui` opens on."""
BARE_APP = f"""
from textual.app import App
from textual.widgets import Footer, Static

class Bare(App):
    BINDINGS = [("q", "quit", "Quit")]

    def compose(self):
        yield Static({FIRST_PAINT_MARKER!r})
        yield Footer()

Bare().run()
"""
"""The baseline of the first paint: a Textual app with one line of text and a footer."""


def first_paint_ms(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    """Wall time from starting `argv` in a pseudo-terminal of `SIZE` to the marker on its
    screen; the process is then quit with `q`."""
    controller, terminal = open_pty(*SIZE)
    start = time.perf_counter()
    try:
        process = start_in_pty(argv, terminal, terminal_env(env), cwd=str(cwd))
    finally:
        os.close(terminal)
    try:
        screen = read_screen_until(controller, process, lambda text: FIRST_PAINT_MARKER in text,
                                   60)
        elapsed = (time.perf_counter() - start) * 1000
        if FIRST_PAINT_MARKER not in screen:
            raise RuntimeError(f"{argv} drew no {FIRST_PAINT_MARKER!r}: {screen[-400:]!r}")
        os.write(controller, b"q")
        drain_until_exit(controller, process, 30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(controller)
    return elapsed


def first_paint(parent: Path, runs: int) -> dict[str, float]:
    """Median first paint of `ctree tui` on a fresh workspace and of the bare app, `runs`
    interleaved runs each after one untimed run (which fills the bytecode cache, as an
    installed copy has one)."""
    script = Path(sys.executable).with_name("ctree")
    ctree = [str(script)] if script.is_file() else [sys.executable, "-m", "contextree"]
    with temp_dir(str(parent), "bench-tui-paint-") as root:
        subprocess.run([*ctree, "init"], cwd=root, capture_output=True, check=True)
        env = child_env(root)
        commands = {"ctree": [*ctree, "tui"], "bare": [sys.executable, "-c", BARE_APP]}
        samples: dict[str, list[float]] = {key: [] for key in commands}
        for argv in commands.values():
            first_paint_ms(argv, root, env)
        for _ in range(runs):
            for key, argv in commands.items():
                samples[key].append(first_paint_ms(argv, root, env))
    return {key: median(values) for key, values in samples.items()}


def report_first_paint(report: Report, paint: dict[str, float], runs: int) -> None:
    report.note(f"first paint: wall time from start to the dashboard on the screen of a "
                f"{SIZE[0]}x{SIZE[1]} pseudo-terminal, median of {runs}")
    report.row("tui.first_paint_ms", paint["ctree"], "ms", target=Target("<=", 300.0),
               baselines=[Baseline("bare Textual app", paint["bare"], "ms")])


def main() -> int:
    args = parse_args(__doc__ or "", [])
    report = Report("bench_tui", args)
    parent = Path(args.dir) if args.dir else Path(os.environ.get("TMPDIR", "/tmp"))
    paint_runs = 2 if args.quick else 5
    report_first_paint(report, first_paint(parent, paint_runs), paint_runs)
    nodes, naive_nodes, large_nodes, pages = (5_000, 800, 10_000, 60) if not args.quick \
        else (100, 40, 500, 5)
    live = asyncio.run(follow_live(parent, nodes, per_event=False, drain_timeout=60))
    naive = asyncio.run(follow_live(parent, naive_nodes, per_event=True, drain_timeout=60))
    report_live(report, live, naive)
    large, untuned, table = large_runs(parent, large_nodes, pages,
                                             runs=1 if args.quick else 3)
    report_large(report, large, untuned, table)
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
