"""`ctree sessions diff` through the real entry point on real generate runs (and, for
retries and latency, synthetic generate sessions written into a real store)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.tui.synthetic import (
    T0,
    GenerationPlan,
    fixed_ulid,
    generation_events,
    tree_plan,
    write_session,
)

from contextree.cli.app import run
from contextree.progress import EventStore


@pytest.fixture
def two_runs(tmp_path: Path) -> Path:
    """A workspace generated twice, `src/a.py` edited in between."""
    root = tmp_path / "ws"
    (root / "src").mkdir(parents=True)
    (root / "src" / "a.py").write_text("print(1)\n")
    (root / "src" / "b.py").write_text("x = 2\n")
    assert run(["-C", str(root), "context", "generate"]) == 0
    (root / "src" / "a.py").write_text("print(3)\n")
    assert run(["-C", str(root), "context", "generate"]) == 0
    return root


def diff(capsys: pytest.CaptureFixture[str], root: Path, *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = run(["-C", str(root), "sessions", "diff", *args])
    out, err = capsys.readouterr()
    return code, out + err


def test_the_edited_file_and_its_parents_are_new_the_rest_up_to_date(
    two_runs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = diff(capsys, two_runs, "last~1", "last", "--json")
    assert code == 0
    report = json.loads(out)
    nodes = {node["path"]: node for node in report["nodes"]}
    edited = nodes["src/a.py"]
    assert (edited["a"]["outcome"], edited["b"]["outcome"]) == ("generated", "generated")
    assert edited["file_changed"] and edited["content_changed"]
    assert edited["a"]["frame_id"] != edited["b"]["frame_id"]
    same = nodes["src/b.py"]
    assert (same["a"]["outcome"], same["b"]["outcome"]) == ("generated", "up to date")
    assert not same["file_changed"] and not same["content_changed"]
    assert same["deltas"]["tokens"] == -same["a"]["tokens"] < 0
    summary = report["summary"]
    assert summary["outcome_changes"] == {"generated → up to date": 1}
    assert summary["content_changed"] == 3  # src/a.py, src and the root
    assert summary["tokens"]["a"] == sum(node["a"]["tokens"] for node in report["nodes"])


def test_text_lists_only_differing_nodes_unless_all(
    two_runs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = diff(capsys, two_runs, "last", "last")
    assert code == 0 and "4 nodes, 0 differ" in out and "src/a.py" not in out
    code, out = diff(capsys, two_runs, "last", "last", "--all")
    assert "  a.py: up to date → up to date" not in out
    assert "\n  a.py: generated → generated  (unchanged" in out
    code, out = diff(capsys, two_runs, "last~1", "last")
    assert "\nsrc/: generated → generated  (file changed, content changed" in out
    assert "\n  b.py: generated → up to date" in out
    assert "\n  a.py: generated → generated  (file changed, content changed" in out


def test_a_reference_past_the_oldest_is_refused(
    two_runs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = diff(capsys, two_runs, "last~2", "last")
    assert code == 1 and "only 2 generating sessions" in out


@pytest.fixture
def three_runs(tmp_path: Path) -> Path:
    """`docs/` (3 files) and `src/` (`a.py`, `pkg/` with 3 files) generated three times:
    `src/a.py` edited before the second run, `src/pkg/m1.py` before the third."""
    root = tmp_path / "ws"
    (root / "docs").mkdir(parents=True)
    (root / "src" / "pkg").mkdir(parents=True)
    for index in (1, 2, 3):
        (root / "docs" / f"d{index}.md").write_text(f"# part {index}\n")
        (root / "src" / "pkg" / f"m{index}.py").write_text(f"x = {index}\n")
    (root / "src" / "a.py").write_text("print(1)\n")
    for edit in (None, root / "src" / "a.py", root / "src" / "pkg" / "m1.py"):
        if edit is not None:
            edit.write_text(edit.read_text() + "y = 0\n")
        assert run(["-C", str(root), "context", "generate"]) == 0
    return root


def node_lines(out: str) -> list[str]:
    """The node list: the lines after the indented summary."""
    lines = out.splitlines()
    first = next(i for i, line in enumerate(lines) if i and not line.startswith("  "))
    return lines[first:]


def test_a_directory_that_differs_alike_throughout_is_one_line(
    three_runs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = diff(capsys, three_runs, "last~2", "last~1")
    assert code == 0
    lines = node_lines(out)
    assert [line.split("  (")[0] for line in lines] == [
        "./: generated → generated",
        "docs/  all 4: generated → up to date",
        "src/: generated → generated",
        "  a.py: generated → generated",
        "src/pkg/  all 4: generated → up to date",
    ]
    assert "(tokens -" in lines[1] and "(file changed, content changed" in lines[3]
    report = json.loads(diff(capsys, three_runs, "last~2", "last~1", "--json")[1])
    assert len(report["nodes"]) == 11  # the per-node list stays whole
    rolled = {entry["path"]: entry for entry in report["rolled_up"]}
    assert rolled["docs"]["nodes"] == 4 and rolled["src/a.py"]["nodes"] == 1
    docs_tokens = sum(node["deltas"]["tokens"] for node in report["nodes"]
                      if node["path"] == "docs" or node["path"].startswith("docs/"))
    assert rolled["docs"]["deltas"]["tokens"] == docs_tokens < 0


def test_a_directory_that_differs_in_several_ways_lists_its_nodes(
    three_runs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = diff(capsys, three_runs, "last~1", "last")
    assert code == 0
    assert [line.split("  (")[0] for line in node_lines(out)] == [  # docs/: unchanged
        "./: generated → generated",
        "src/: generated → generated",
        "  a.py: generated → up to date",
        "src/pkg/: up to date → generated",
        "  m1.py: up to date → generated",
    ]


def test_all_lists_every_node_and_rolls_nothing_up(
    three_runs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = diff(capsys, three_runs, "last~2", "last~1", "--all")
    assert code == 0
    lines = node_lines(out)
    assert len(lines) == 11 and not any("  all " in line for line in lines)
    assert "  d2.md: generated → up to date" in out and "src/pkg/: generated → up to date" in out


def test_ids_and_prefixes_name_the_same_sessions_as_last(
    three_runs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    by_last = json.loads(diff(capsys, three_runs, "last~2", "last", "--json")[1])
    a_id, b_id = by_last["summary"]["a"], by_last["summary"]["b"]
    code, out = diff(capsys, three_runs, a_id, b_id[:12].lower(), "--json")
    assert code == 0 and json.loads(out) == by_last
    code, out = diff(capsys, three_runs, "0" * 26, "last")
    assert code == 1 and "no session matches" in out and "ctree sessions list" in out


def test_a_session_that_generates_nothing_is_refused_and_last_skips_it(
    two_runs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    generated = json.loads(diff(capsys, two_runs, "last~1", "last", "--json")[1])["summary"]
    assert run(["-C", str(two_runs), "scan"]) == 0
    assert json.loads(diff(capsys, two_runs, "last~1", "last", "--json")[1])["summary"] \
        == generated
    store = EventStore.open(two_runs / ".ctree" / "store")
    try:
        scan_id = store.list_sessions(command="scan", limit=1)[0].session_id
    finally:
        store.close()
    code, out = diff(capsys, two_runs, scan_id, "last")
    assert code == 1
    assert f"session {scan_id} is a `scan` session" in out and "context generate" in out


def synthetic_pair(root: Path, plan_b: GenerationPlan) -> None:
    """Two synthetic generate sessions over the same tree in `root`'s store: A plain, then
    B as `plan_b` plans it, and a `watch --generate` session after them."""
    store = EventStore.open(root / ".ctree" / "store")
    try:
        write_session(store, generation_events(tree_plan(depth=1, dirs=2, files_per_dir=3)),
                      session_id=fixed_ulid(T0, 1))
        write_session(store, generation_events(plan_b), session_id=fixed_ulid(T0 + 60, 2),
                      start_s=T0 + 60)
        write_session(store, [], session_id=fixed_ulid(T0 + 120, 3), start_s=T0 + 120,
                      command="watch", args={"debounce_ms": 200})
    finally:
        store.close()


def test_latency_queue_wait_and_retry_deltas_and_the_slowest_regressions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CTREE_HOME", str(tmp_path / "home"))
    root = tmp_path / "ws"
    root.mkdir()
    assert run(["-C", str(root), "init"]) == 0
    retried = "pkg1/module_02.py"
    synthetic_pair(root, tree_plan(depth=1, dirs=2, files_per_dir=3, latency_ms=90,
                                   retry=frozenset({retried}), concurrency=1))
    code, out = diff(capsys, root, "last~1", "last", "--json", "--all")  # the watch: no frames
    assert code == 0
    report = json.loads(out)
    nodes = {node["path"]: node for node in report["nodes"]}
    assert report["summary"]["a"] == fixed_ulid(T0, 1)
    assert nodes[retried]["deltas"]["retries"] == 1 and nodes[retried]["b"]["retries"] == 1
    summary = report["summary"]
    for name in ("tokens", "provider_ms", "queue_wait_ms", "retries"):
        for side in ("a", "b"):
            assert summary[name][side] == sum(node[side][name] for node in nodes.values())
    assert summary["provider_ms"]["b"] > summary["provider_ms"]["a"]
    assert summary["queue_wait_ms"]["b"] > summary["queue_wait_ms"]["a"]  # one worker now
    slowest = [row["provider_ms"] for row in summary["slowest_regressions"]]
    regressions = sorted((node["deltas"]["provider_ms"] for node in nodes.values()
                          if node["deltas"]["provider_ms"] > 0), reverse=True)
    assert len(slowest) == 5 and slowest == regressions[:5]
    text = diff(capsys, root, "last~1", "last")[1]
    assert "retries 0 → 1" in text
    assert f"  slower: {summary['slowest_regressions'][0]['path']} +{slowest[0]} ms" in text
