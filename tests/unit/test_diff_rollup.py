"""The roll-up of a session diff by directory, on hand-built diffs."""

from __future__ import annotations

from contextree.progress.diff import ABSENT_SIDE, NodeDiff, NodeSide, SessionDiff
from contextree.progress.diff_rollup import entry_line, rolled_up

GENERATED = NodeSide("generated", node_id="n", frame_id="f", tokens=10)
NEW_CONTENT = NodeSide("generated", node_id="m", frame_id="g", tokens=12)
FAILED = NodeSide("failed", node_id="n")


def session_diff(**sides: tuple[NodeSide, NodeSide]) -> SessionDiff:
    """A diff of the paths given as keyword names (`__` for `/`, `root` for `.`)."""
    nodes = [NodeDiff("." if name == "root" else name.replace("__", "/"), a, b)
             for name, (a, b) in sides.items()]
    return SessionDiff("A", "B", 100, 120, sorted(nodes, key=lambda node: node.path))


def lines(diff: SessionDiff, show_all: bool = False) -> list[str]:
    return [entry_line(entry) for entry in rolled_up(diff, show_all=show_all)]


def test_a_removed_directory_is_one_line_with_its_count_and_summed_tokens() -> None:
    diff = session_diff(root=(GENERATED, NEW_CONTENT), old=(GENERATED, ABSENT_SIDE),
                        old__a=(GENERATED, ABSENT_SIDE), old__b=(GENERATED, ABSENT_SIDE),
                        keep=(GENERATED, GENERATED))
    assert lines(diff) == [
        "./: generated → generated  (file changed, content changed; tokens +2)",
        "old/  all 3: generated → absent  (tokens -30)",
    ]


def test_flags_break_a_roll_up_even_when_outcomes_agree() -> None:
    diff = session_diff(src=(GENERATED, NEW_CONTENT), src__a=(GENERATED, NEW_CONTENT),
                        src__b=(GENERATED, FAILED))
    assert lines(diff) == [
        "./",
        "src/: generated → generated  (file changed, content changed; tokens +2)",
        "  a: generated → generated  (file changed, content changed; tokens +2)",
        "  b: generated → failed  (tokens -10)",
    ]


def test_all_shows_unchanged_nodes_as_such_and_rolls_nothing_up() -> None:
    diff = session_diff(src=(GENERATED, ABSENT_SIDE), src__a=(GENERATED, ABSENT_SIDE),
                        top=(GENERATED, GENERATED))
    assert lines(diff) == ["./", "src/  all 2: generated → absent  (tokens -20)"]
    assert lines(diff, show_all=True) == [
        "./",
        "  top: generated → generated  (unchanged)",
        "src/: generated → absent  (tokens -10)",
        "  a: generated → absent  (tokens -10)",
    ]


def test_a_single_node_is_listed_by_its_path() -> None:
    assert lines(session_diff(root=(GENERATED, FAILED))) == [
        "./: generated → failed  (tokens -10)"]
