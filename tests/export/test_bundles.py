"""`ctree export jsonl` and `ctree import`: lossless bundles, imported whole or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from contextree.progress.store import EventStore
from tests.export.conftest import Ctree


@pytest.fixture
def other(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Ctree:
    """A second workspace with its own store."""
    workspace = tmp_path / "other"
    workspace.mkdir()
    return Ctree(workspace, capsys)


def stored(root: Path, session_id: str) -> tuple[bytes, list[tuple[bytes, bytes]], object]:
    store = EventStore.open(root / ".ctree" / "store", create=False)
    try:
        with store.read() as txn:
            record = bytes(txn.get(session_id.encode(), db=store.sessions_db))
        return record, store.read_raw_events(session_id), store.get_meta(session_id)
    finally:
        store.close()


def test_import_of_an_export_round_trips_byte_for_byte(
    ctree: Ctree, other: Ctree, tmp_path: Path
) -> None:
    ctree.ok("scan")
    ctree.ok("context", "generate")
    bundle = tmp_path / "sessions.jsonl"
    ctree.ok("export", "jsonl", "--all", "-o", str(bundle))
    assert "imported 2 session(s)" in other.ok("import", str(bundle))
    again = tmp_path / "again.jsonl"
    other.ok("export", "jsonl", "--all", "-o", str(again))
    assert again.read_bytes() == bundle.read_bytes()
    session_id = ctree.last_session_id()
    assert other.last_session_id() == session_id
    assert stored(other.root, session_id) == stored(ctree.root, session_id)
    assert other.ok("sessions", "events", session_id) == ctree.ok("sessions", "events",
                                                                  session_id)


def test_export_to_standard_output_writes_the_same_bundle(ctree: Ctree, tmp_path: Path) -> None:
    ctree.ok("scan")
    bundle = tmp_path / "one.jsonl"
    ctree.ok("export", "jsonl", "last", "-o", str(bundle))
    assert ctree.ok("export", "jsonl", "last").encode() == bundle.read_bytes()


@pytest.mark.parametrize(("damage", "message"), [
    (lambda lines: lines[:3] + lines[4:], "jumps from seq 2 to 4"),
    (lambda lines: [*lines[:2], b"{not json", *lines[2:]], "line 3 of"),
    (lambda lines: lines[1:], "line 1 of"),
])
def test_a_damaged_bundle_is_refused_in_one_line_and_imports_nothing(
    ctree: Ctree, other: Ctree, tmp_path: Path, damage: object, message: str
) -> None:
    ctree.ok("scan")
    ctree.ok("scan")
    bundle = tmp_path / "sessions.jsonl"
    ctree.ok("export", "jsonl", "--all", "-o", str(bundle))
    lines = bundle.read_bytes().splitlines()
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b"\n".join(damage(lines)) + b"\n")  # type: ignore[operator]
    code, _, err = other("import", str(bad))
    assert code == 1 and message in err and err.count("\n") == 1
    assert other("sessions", "list", "--json")[1] in ("[]\n", "")


def test_a_session_that_exists_is_refused_and_nothing_is_imported(
    ctree: Ctree, other: Ctree, tmp_path: Path
) -> None:
    ctree.ok("scan")
    first = tmp_path / "first.jsonl"
    ctree.ok("export", "jsonl", "last", "-o", str(first))
    ctree.ok("scan")
    both = tmp_path / "both.jsonl"
    ctree.ok("export", "jsonl", "--all", "-o", str(both))
    other.ok("import", str(first))
    code, _, err = other("import", str(both))
    assert code == 1 and "already exists" in err and err.count("\n") == 1
    assert other.ok("sessions", "list", "--json").count("session_id") == 1
