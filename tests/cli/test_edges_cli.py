"""Clear edges through the real `ctree`: damaged stores, malformed values, piped output.

A damaged store is tested on copies of a real one — truncated, with bits flipped, with a file
where its directory should be — and each command must end in one line naming the store and
the problem: never a signal death (a truncated `data.mdb` used to SIGBUS), never "unexpected".
Those run `ctree` as a subprocess, since a SIGBUS would kill the test process itself.
"""

from __future__ import annotations

import errno
import json
import os
import random
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import lmdb
import pytest

from contextree.cli.app import run
from contextree.progress.store_check import describe_open_failure

READS = (["sessions", "list"], ["status"], ["context", "get", "mod.py"])
COMMANDS = (*READS, ["scan"])
LONG_LINE = "word " * 60  # 300 characters: rich would wrap it at 80 when piped


def ctree_process(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "contextree", "-C", str(root), *args],
                          capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "CTREE_HOME": str(root.parent / "home")})


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with one module, scanned and generated, copied by each test."""
    root = tmp_path_factory.mktemp("generated") / "ws"
    root.mkdir()
    (root / "mod.py").write_text(f'"""{LONG_LINE}"""\n\nVALUE = 1\n', encoding="utf-8")
    result = ctree_process(root, "context", "generate")
    assert result.returncode == 0, result.stderr
    return root


def damaged_copy(generated: Path, tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "ws"
    shutil.copytree(generated, root)
    return root, root / ".ctree" / "store" / "data.mdb"


def assert_one_line_naming_the_store(result: subprocess.CompletedProcess[str], store: Path,
                                     problem: str) -> None:
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"error: store {store} is damaged: ")
    assert problem in result.stderr and "unexpected" not in result.stderr
    assert "delete" not in result.stderr and "remove" not in result.stderr


@pytest.mark.parametrize("keep", ["half", "one page", "meta pages only", "empty"])
def test_a_truncated_store_is_one_line_never_a_sigbus(
    generated: Path, tmp_path: Path, keep: str
) -> None:
    root, data = damaged_copy(generated, tmp_path)
    size = data.stat().st_size
    kept = {"half": size // 2 // 4096 * 4096, "one page": 4096, "meta pages only": 8192,
            "empty": 0}[keep]
    os.truncate(data, kept)
    problem = "is empty" if kept == 0 else "truncated"
    for command in COMMANDS:
        assert_one_line_naming_the_store(ctree_process(root, *command), data.parent, problem)
    assert data.stat().st_size == kept, "a command rewrote the damaged store"


def test_flipped_magic_in_both_meta_pages_is_one_line(generated: Path, tmp_path: Path) -> None:
    root, data = damaged_copy(generated, tmp_path)
    with open(data, "r+b") as file:
        for offset in (16, 4096 + 16):
            file.seek(offset)
            file.write(b"\x00")
    for command in READS:
        assert_one_line_naming_the_store(ctree_process(root, *command), data.parent,
                                         "no valid meta page")


@pytest.mark.parametrize("damage", ["page number", "flags", "past the end"])
def test_a_damaged_root_page_is_one_line_never_an_abort(
    generated: Path, tmp_path: Path, damage: str
) -> None:
    """The main tree's root page, as the newest meta page names it: its header spoiled, or
    the meta page pointing past the file. LMDB trusts it: without the check, reads exit 0 as
    if the store were fine, or an assertion aborts them."""
    root, data = damaged_copy(generated, tmp_path)
    with open(data, "r+b") as file:
        metas = []
        for offset in (0, 4096):  # MDB_meta after the page header: main db's md_root, then
            file.seek(offset + 16 + 112)  # mm_last_pg, then mm_txnid
            main_root, last_page, txnid = struct.unpack("<QQQ", file.read(24))
            metas.append((txnid, offset, main_root, last_page))
        _, meta_offset, main_root, last_page = max(metas)
        if damage == "past the end":
            file.seek(meta_offset + 16 + 112)
            file.write(struct.pack("<Q", last_page + 5))
        else:
            file.seek(main_root * 4096 + (0 if damage == "page number" else 10))
            file.write(b"\x77\x77" if damage == "page number" else b"\x00\x00")
    problem = "past its last committed page" if damage == "past the end" else "damaged root"
    for command in READS:
        result = ctree_process(root, *command)
        assert result.returncode != -6, "aborted by an LMDB assertion"
        assert_one_line_naming_the_store(result, data.parent, problem)


def test_bits_flipped_anywhere_never_kill_a_reader(generated: Path, tmp_path: Path) -> None:
    """Random single-bit flips (a fixed seed) in copies: each read exits 0 or 1, and a failure
    is one line; warnings about skipped records are one line each, never raw bytes."""
    size = (generated / ".ctree" / "store" / "data.mdb").stat().st_size
    rng = random.Random(11)
    for trial in range(12):
        root, data = damaged_copy(generated, tmp_path / str(trial))
        offset = rng.randrange(size)
        with open(data, "r+b") as file:
            file.seek(offset)
            byte = file.read(1)[0]
            file.seek(offset)
            file.write(bytes([byte ^ (1 << rng.randrange(8))]))
        for command in READS:
            result = ctree_process(root, *command)
            assert result.returncode in (0, 1), (offset, command, result.returncode)
            assert "unexpected" not in result.stderr and "Traceback" not in result.stderr
            errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
            assert len(errors) <= 1 and len(set(result.stderr.splitlines())) == len(
                result.stderr.splitlines()), result.stderr


def test_a_file_where_the_store_directory_should_be(generated: Path, tmp_path: Path) -> None:
    root, _ = damaged_copy(generated, tmp_path)
    store = root / ".ctree" / "store"
    shutil.rmtree(store)
    store.write_text("not a store\n", encoding="utf-8")
    for command in COMMANDS:
        result = ctree_process(root, *command)
        assert result.returncode == 1
        assert result.stderr == (f"error: store {store} is a file, not a store directory — "
                                 "pass --store with a directory\n")


def test_corruption_met_after_opening_names_the_store(
    generated: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import contextree.progress.store as store_module

    root, data = damaged_copy(generated, tmp_path)

    def corrupted(*args: object, **kwargs: object) -> None:
        raise lmdb.CorruptedError("mdb_get: MDB_CORRUPTED: Located page was wrong type")

    monkeypatch.setattr(store_module.EventStore, "list_sessions", corrupted)
    assert run(["-C", str(root), "sessions", "list"]) == 1
    err = capsys.readouterr().err
    assert err == (f"error: store {data.parent} is damaged: mdb_get: MDB_CORRUPTED: Located "
                   "page was wrong type — restore it from a copy, or pass --store\n")


def test_open_failures_name_their_real_cause(tmp_path: Path) -> None:
    read_only = describe_open_failure(tmp_path, OSError(errno.EROFS, "Read-only file system"))
    assert "filesystem is read-only — pass --store" in read_only
    denied = describe_open_failure(tmp_path, lmdb.ReadonlyError("mdb_env_open", "EACCES"))
    assert "permission denied" in denied
    other = describe_open_failure(tmp_path, lmdb.InvalidError("mdb_env_open", "MDB_INVALID"))
    for message in (read_only, denied, other):
        assert "remove" not in message and "delete" not in message
        assert str(tmp_path) in message


def test_piped_output_is_never_wrapped(generated: Path, tmp_path: Path) -> None:
    root, _ = damaged_copy(generated, tmp_path)
    stored = json.loads(ctree_process(root, "context", "get", "mod.py", "--json").stdout)
    long_lines = [line for line in stored["frame"]["content"].splitlines() if len(line) > 80]
    assert long_lines, "the frame has no line a narrow console would wrap"
    for command in (["context", "get", "mod.py"], ["context", "get", "mod.py", "--history"]):
        result = ctree_process(root, *command)
        assert result.returncode == 0, result.stderr
        shown = result.stdout.splitlines()
        assert all(line in shown for line in long_lines), result.stdout


def test_a_malformed_stored_event_is_skipped_with_one_warning(
    generated: Path, tmp_path: Path
) -> None:
    root, data = damaged_copy(generated, tmp_path)
    env = lmdb.open(str(data.parent), max_dbs=64)
    try:
        events = env.open_db(b"obs_events", create=False)
        with env.begin(write=True) as txn:
            cursor = txn.cursor(events)
            assert cursor.last()
            damaged_key = cursor.key()
            assert txn.put(damaged_key, b"\xff\xfe{not json", db=events)
    finally:
        env.close()
    session_id = damaged_key.decode().split(":")[0]
    for command in (["sessions", "events", session_id], ["sessions", "show", session_id],
                    ["sessions", "replay", session_id, "--json"]):
        result = subprocess.run(
            [sys.executable, "-m", "contextree", "-C", str(root), *command],
            capture_output=True, timeout=120, check=False)
        assert result.returncode == 0, result.stderr
        result.stdout.decode("utf-8")  # valid UTF-8: no raw stored bytes reach stdout
        assert b"\xff\xfe" not in result.stdout
        warnings = result.stderr.decode().splitlines()
        assert len(warnings) == 1 and "skipping malformed event" in warnings[0], (command, warnings)
