"""`watch --generate`: each batch regenerates its changed nodes and their ancestors."""

from __future__ import annotations

import threading

from contextree.engine.generation.generate import BatchGenerator, GenerateOptions, generate_context
from contextree.engine.workspace.layout import Workspace
from contextree.engine.workspace.scan import scan_workspace
from contextree.engine.workspace.watch import FileChange, WatchBatch, WatchStop, watch_workspace
from contextree.progress import EventStore

from .helpers import CheckedEmitter, edit, wait_until


def test_a_batch_regenerates_the_changed_file_and_its_ancestors(
    workspace: Workspace, store: EventStore, emitter: CheckedEmitter
) -> None:
    generate_context(workspace, store, CheckedEmitter(), GenerateOptions())
    edit(workspace.root, "docs/guide.md", "# Guide\n\nNow with more.\n")
    scan_workspace(workspace, store, CheckedEmitter())
    batch = WatchBatch(changes=[FileChange("docs/guide.md", "modified")],
                       updated_paths=["docs/guide.md", "docs", "."], root_id=None, duration_ms=1)
    with BatchGenerator(workspace, store, emitter) as generator:
        generator(batch)
        generator(batch)  # already current: nothing to do, nothing emitted
    assert emitter.paths("node_generation_completed") == {"docs/guide.md", "docs", "."}
    assert len(emitter.of("plan_constructed")) == 1
    (outcome,) = generator.outcomes
    assert outcome.ok and outcome.generated == 3
    stats = emitter.of("queue_stats")
    assert stats and stats[-1]["pending"] == 0 and stats[-1]["in_flight"] == 0


def test_a_running_watch_regenerates_through_the_hook(
    workspace: Workspace, store: EventStore
) -> None:
    generate_context(workspace, store, CheckedEmitter(), GenerateOptions())
    emitter = CheckedEmitter()
    stop = WatchStop()
    generator = BatchGenerator(workspace, store, emitter)
    thread = threading.Thread(target=watch_workspace, args=(workspace, store, emitter),
                              kwargs={"stop_event": stop, "debounce_ms": 50, "generate": True,
                                      "on_batch": generator}, daemon=True)
    thread.start()
    try:
        wait_until(lambda: "scan_completed" in emitter.types(), timeout=10)
        (workspace.root / "pkg/util/numbers.py").write_text("E = 2.71\n", encoding="utf-8")
        wait_until(lambda: "." in emitter.paths("node_generation_completed"), timeout=10)
    finally:
        stop.stop("test over")
        thread.join(timeout=10)
        generator.close()
    assert emitter.paths("node_generation_completed") == {
        "pkg/util/numbers.py", "pkg/util", "pkg", "."}
    assert emitter.of("watch_started")[0]["generate"] is True
