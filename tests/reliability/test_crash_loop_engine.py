"""Crash loop for the engine: `ctree scan` and `ctree context generate` SIGKILLed at random.

Each run edits the workspace, forks a child that runs the real command
(`contextree.cli.app.run`) and kills it at a random moment within the command's measured
duration. After every kill:

- the session checker finds 0 violations and the store opens cleanly;
- the killed session reads `interrupted` (or `completed`, if it ended before the kill);
- the engine data checks clean (`check_engine`), and the tree is atomic: the stored root is
  the one before the run or the one of the disk now, never a mix;
- whatever a durable event claims is in the store: after `scan_completed`, the new tree;
  after `node_generation_completed`, its frame and head;
- the next `ctree scan` / `ctree context generate` succeeds, its root id equals a fresh
  `ctree scan --force`, and after generation every node has current context.

CI runs 40 kills of each command; `--long` runs 300.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from pathlib import Path

from contextree.progress import EventStore, ProgressRuntime
from tests.reliability.checker import check_engine, check_store
from tests.reliability.figures import report_figures
from tests.reliability.forked import CliResult, run_cli
from tests.reliability.workspaces import edit_tree, make_tree, scan_root_id


def _session_ids(store: Path) -> set[str]:
    if not (store / "data.mdb").exists():
        return set()
    opened = EventStore.open(store, create=False)
    try:
        return {record.session_id for record in opened.list_sessions()}
    finally:
        opened.close()


class KillMoments:
    """Random kill moments for commands whose unkilled runs were measured, per kind of run:
    mostly inside the session (from its start to its end), sometimes before it (store open)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.in_session_s: dict[str, float] = {}
        self.before_session_s = 0.0

    def measure(self, kind: str, args: list[str]) -> CliResult:
        started = time.monotonic()
        result = run_cli(args)
        assert result.code == 0 and result.after_session_s is not None, result.stderr
        self.in_session_s[kind] = result.after_session_s
        total_s = time.monotonic() - started
        self.before_session_s = max(self.before_session_s, total_s - result.after_session_s)
        return result

    def run(self, kind: str, args: list[str]) -> CliResult:
        if self.rng.random() < 0.1:
            return run_cli(args, kill_after_s=self.rng.uniform(0.0, self.before_session_s))
        window = self.in_session_s[kind]
        return run_cli(args, kill_after_session_s=self.rng.uniform(0.0, window))


def _check_killed_session(store: Path, new: set[str], result: CliResult,
                          totals: Counter[str]) -> list[tuple[str, dict[str, object]]]:
    """The session the killed command left: checked; its events returned as (type, data)."""
    assert len(new) <= 1, f"one command made {len(new)} sessions"
    assert set(result.session_ids) <= new, "a session the child started is not in the store"
    if not new:
        totals["killed_before_session"] += 1
        return []
    report = check_store(store, only=new)
    assert report.violations == [], report.violations
    (session_id,) = new
    with ProgressRuntime.open(store) as runtime:
        events = [(e.type, e.data) for e in runtime.store.read_events(session_id)]
    ended = events[-1][0] == "session_ended"
    if result.killed and not ended:
        assert report.by_status == {"interrupted": 1}, report.by_status
        totals["interrupted"] += 1
    else:
        assert report.by_status == {"completed": 1}, (report.by_status, result)
        totals["completed_before_kill" if result.killed else "finished"] += 1
    totals["events"] += len(events)
    return events


def test_kill_9_during_scan_keeps_the_tree_atomic(tmp_path: Path, long_mode: bool) -> None:
    runs = 300 if long_mode else 40
    rng = random.Random(20261125)
    workspace = tmp_path / "ws"
    make_tree(workspace, 3000)
    store = workspace / ".ctree" / "store"
    base = ["-C", str(workspace)]
    kills = KillMoments(rng)
    stored_root = scan_root_id(kills.measure("force", [*base, "scan", "--force", "--json"]).stdout)
    edit_tree(workspace, rng, changes=40)
    stored_root = scan_root_id(kills.measure("incremental", [*base, "scan", "--json"]).stdout)
    totals: Counter[str] = Counter()
    for _ in range(runs):
        edits = edit_tree(workspace, rng, changes=rng.choice([0, 5, 40, 200]))
        totals["files_edited"] += edits.modified + edits.added + edits.deleted
        before = _session_ids(store)
        kind = "force" if rng.random() < 0.3 else "incremental"
        result = kills.run(kind, [*base, "scan", *(["--force"] if kind == "force" else [])])
        totals["runs"] += 1
        events = _check_killed_session(store, _session_ids(store) - before, result, totals)
        engine = check_engine(store)
        assert engine.violations == [], engine.violations[:5]
        follow = run_cli([*base, "scan", "--json"])
        assert follow.code == 0, follow.stderr
        fresh = run_cli([*base, "scan", "--force", "--json"])
        assert fresh.code == 0, fresh.stderr
        new_root = scan_root_id(fresh.stdout)
        assert scan_root_id(follow.stdout) == new_root, "the scan after a kill is not exact"
        assert engine.root_id in (stored_root, new_root), "the killed scan left a mixed tree"
        completed = [data for kind, data in events if kind == "scan_completed"]
        if completed:
            assert completed[0]["root_id"] == new_root == engine.root_id
            totals["tree_written_before_kill"] += 1
        totals["root_changed"] += stored_root != new_root
        stored_root = new_root
    final = check_store(store)
    assert final.violations == []
    assert totals["interrupted"] >= runs // 2, f"too few kills landed mid-command: {totals}"
    report_figures("engine crash loop (scan, 3,000 files)", **totals,
                   sessions=final.sessions, store_events=final.events, violations=0)


def test_kill_9_during_context_generate_loses_no_frame(tmp_path: Path, long_mode: bool) -> None:
    runs = 300 if long_mode else 40
    rng = random.Random(20261126)
    workspace = tmp_path / "ws"
    make_tree(workspace, 400)
    store = workspace / ".ctree" / "store"
    base = ["-C", str(workspace)]
    kills = KillMoments(rng)
    kills.measure("force", [*base, "context", "generate", "--force"])
    edit_tree(workspace, rng, changes=40)
    kills.measure("edited", [*base, "context", "generate"])
    stored_root = check_engine(store).root_id
    totals: Counter[str] = Counter()
    for _ in range(runs):
        kind = "force" if rng.random() < 0.5 else "edited"
        if kind == "edited":
            edits = edit_tree(workspace, rng, changes=rng.randint(20, 60))
            totals["files_edited"] += edits.modified + edits.added + edits.deleted
        before = _session_ids(store)
        force = ["--force"] if kind == "force" else []
        result = kills.run(kind, [*base, "context", "generate", *force])
        totals["runs"] += 1
        events = _check_killed_session(store, _session_ids(store) - before, result, totals)
        engine = check_engine(store)
        assert engine.violations == [], engine.violations[:5]
        for kind, data in events:
            if kind == "node_generation_completed":
                totals["frames_acknowledged"] += 1
                assert data["frame_id"] in engine.frame_ids, f"frame of {data['path']} lost"
                assert (data["node_id"], data["frame_type"]) in engine.head_keys
        follow = run_cli([*base, "context", "generate"])
        assert follow.code == 0, follow.stderr
        after = check_engine(store)
        assert after.violations == [], after.violations[:5]
        missing = {node_id for node_id in after.node_ids
                   if (node_id, "context-docs") not in after.head_keys}
        assert not missing, f"{len(missing)} nodes lack context after a full generate"
        fresh = run_cli([*base, "scan", "--force", "--json"])
        new_root = scan_root_id(fresh.stdout)
        assert after.root_id == new_root, "generation after a kill left a stale tree"
        assert engine.root_id in (stored_root, new_root), "the killed run left a mixed tree"
        totals["frames_stored"] = engine.frames
        stored_root = new_root
    final = check_store(store)
    assert final.violations == []
    assert totals["interrupted"] >= runs // 2, f"too few kills landed mid-command: {totals}"
    assert totals["frames_acknowledged"] > 0
    report_figures("engine crash loop (context generate, local provider)", **totals,
                   sessions=final.sessions, store_events=final.events, violations=0)


def test_the_engine_checker_sees_a_torn_tree_and_a_dangling_head(tmp_path: Path) -> None:
    """The checker itself: it must notice what the crash loop is looking for."""
    workspace = tmp_path / "ws"
    make_tree(workspace, 30)
    assert run_cli(["-C", str(workspace), "context", "generate"]).code == 0
    store = workspace / ".ctree" / "store"
    assert check_engine(store).violations == []
    opened = EventStore.open(store)
    try:
        nodes, heads = opened.open_db("nodes"), opened.open_db("heads")

        def tear(txn: object) -> None:
            cursor = txn.cursor(db=nodes)  # type: ignore[attr-defined]
            cursor.first()
            cursor.delete()  # a node vanishes: its directory now names a missing child
            head_cursor = txn.cursor(db=heads)  # type: ignore[attr-defined]
            head_cursor.first()
            head_cursor.put(head_cursor.key(), b"0" * 64)  # a head naming no frame

        opened.write(tear)
    finally:
        opened.close()
    found = check_engine(store).violations
    assert any("missing" in problem or "disagree" in problem for problem in found), found
    assert any(problem.startswith("head ") for problem in found), found
