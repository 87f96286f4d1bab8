"""Garbage in every sub-database: every read command still prints, or says one line.

A workspace with generated context and sessions of every status is built once. Then, for
each sub-database of its store (listed from the environment, so a new one fails
`test_every_sub_database_is_covered` until it is added) and each way of spoiling it, a copy
gets garbage values — random bytes, truncated JSON, JSON of another shape, the right fields
with the wrong types, empty values, 300 KB values — plus keys of the wrong form, some inside a
real session's key range. Every read command runs on it in a child process and must exit 0
with output, or exit 1 with exactly one `error:` line that is not an unexpected exception:
`sessions list/show/events/replay` on every spoiled observability table (and `sessions list`
must succeed: malformed values are skipped), `status`, `context get` and the TUI's data
loading on every spoiled engine table: a damaged engine record is skipped with a warning and
rebuilt by the next scan or generation.
"""

from __future__ import annotations

import inspect
import json
import random
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from contextree.progress import EventStore
from tests.reliability.checker import sub_database_names
from tests.reliability.figures import report_figures
from tests.reliability.forked import CliResult, run_cli
from tests.reliability.workspaces import make_tree

OBSERVABILITY_DBS = {"obs_sessions", "obs_events", "obs_session_meta"}
EXPECTED_DBS = OBSERVABILITY_DBS | {"nodes", "paths", "meta", "frames", "heads", "frame_log"}
counted: Counter[str] = Counter()


@dataclass(frozen=True)
class Built:
    workspace: Path
    session_ids: list[str]
    file_path: str
    dir_path: str


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    workspace = tmp_path_factory.mktemp("hostile") / "ws"
    make_tree(workspace, 40)
    base = ["-C", str(workspace)]
    assert run_cli([*base, "context", "generate"]).code == 0
    assert run_cli([*base, "context", "generate", "pkg1", "--force"]).code == 0
    assert run_cli([*base, "scan", "no/such/path"]).code == 1  # a failed session
    killed = run_cli([*base, "context", "generate", "--force"], kill_after_session_s=0.02)
    assert killed.killed  # an interrupted session
    store = workspace / ".ctree" / "store"
    opened = EventStore.open(store, create=False)
    try:
        names = sub_database_names(opened)
        ids = [record.session_id for record in opened.list_sessions()]
        statuses = {record.status for record in opened.list_sessions()}
    finally:
        opened.close()
    assert names >= EXPECTED_DBS, f"sub-databases changed: {sorted(names)}"
    assert statuses >= {"completed", "failed", "interrupted"}
    return Built(workspace, ids, "pkg1/sub1/module_1.py", "pkg1")


GARBAGE_KINDS = ("random_bytes", "truncated", "other_shape", "wrong_types", "empty", "huge")


def _wrong_type(value: Any) -> Any:
    if isinstance(value, bool):
        return "no"
    if isinstance(value, int | float):
        return ["not", "a", "number"]
    if isinstance(value, str):
        return {"not": "a string"}
    if isinstance(value, dict):
        return {key: _wrong_type(item) for key, item in value.items()}
    if isinstance(value, list):
        return {"not": "a list"}
    return 1e308


def _garbage(kind: str, original: bytes, rng: random.Random) -> bytes:
    if kind == "random_bytes":
        return rng.randbytes(rng.randint(1, 64))
    if kind == "truncated":
        return original[: max(1, len(original) // 2)]
    if kind == "other_shape":
        return rng.choice([b"[]", b'"text"', b"null", b"42", b"{}", b"[1, 2, 3]", b"true"])
    if kind == "wrong_types":
        try:
            return json.dumps(_wrong_type(json.loads(original))).encode()
        except ValueError:
            return b'{"data": 7}'
    if kind == "empty":
        return b""
    return b"{" + b'"a":"' + b"x" * 300_000 + b'"}'


def _spoil(store_path: Path, db_name: str, kind: str, session_ids: list[str], seed: int) -> int:
    """Overwrite every value of `db_name` with garbage of `kind` (every second one for the
    event log, so good and bad events alternate), add keys of the wrong form (some inside a
    real session's key range); return how many values were spoiled."""
    rng = random.Random(seed)
    store = EventStore.open(store_path, create=False)
    try:
        handle = store.open_db(db_name)

        def spoil(txn: Any) -> int:
            items = [(bytes(k), bytes(v)) for k, v in txn.cursor(db=handle)]
            spoiled = 0
            for index, (key, value) in enumerate(items):
                if db_name == "obs_events" and index % 2:
                    continue
                txn.put(key, _garbage(kind, value, rng), db=handle)
                spoiled += 1
            inside = [f"{sid}:{suffix}".encode() for sid in session_ids[:2]
                      for suffix in ("zz", "9" * 20, "-1")]
            for key in (b"\xff\xfe\x00", b"zzz", b"01ZZZZZZZZZZZZZZZZZZZZZZZZ:x", b"a\0b\0c",
                        *inside):
                txn.put(key, _garbage(kind, b'{"k": 1}', rng), db=handle)
            return spoiled

        return int(store.write(spoil))
    finally:
        store.close()


def _session_commands(built: Built) -> list[list[str]]:
    first, last = built.session_ids[-1], built.session_ids[0]
    return [
        ["sessions", "list"], ["sessions", "list", "--json"],
        ["sessions", "show", "last"], ["sessions", "show", first, "--json"],
        ["sessions", "events", first], ["sessions", "events", last, "--after", "2"],
        ["sessions", "replay", last], ["sessions", "replay", first, "--json"],
    ]


def _engine_commands(built: Built) -> list[list[str]]:
    return [
        ["status"], ["status", "--json"],
        ["context", "get", built.file_path],
        ["context", "get", built.dir_path, "--json", "--history"],
    ]


def _problem(args: list[str], result: CliResult) -> str | None:
    """What is wrong with a read command's result on a spoiled store, if anything."""
    if "Traceback" in result.stderr:
        return f"a traceback: {result.stderr[-300:]}"
    if result.code not in (0, 1):
        return f"exit {result.code}: {result.stderr[-300:]}"
    if result.code == 0:
        if not result.stdout.strip() and args[:2] != ["sessions", "events"]:
            return "exit 0 without output"
        counted["printed"] += 1
        return None
    lines = result.error_lines
    if len(lines) != 1:
        return f"{len(lines)} error lines: {result.stderr[-300:]}"
    if lines[0].startswith("error: unexpected"):
        return lines[0]
    counted["one_line_errors"] += 1
    return None


def _load_tui_data(store_path: Path, workspace: Path) -> str | None:
    """The TUI's data loading functions (no terminal needed) on the spoiled store; what went
    wrong, if anything."""
    from contextree.engine.workspace.layout import resolve_workspace
    from contextree.tui.data import SnapshotReader, read_tree_summary
    from contextree.tui.frames import load_frame_markdown

    store = EventStore.open(store_path, create=False)
    try:
        kwargs: dict[str, Any] = {}
        if "workspace" in inspect.signature(SnapshotReader).parameters:
            kwargs["workspace"] = resolve_workspace(workspace)
        snapshot = SnapshotReader(store, **kwargs).read()
        for row in snapshot.rows:
            assert row.status in ("active", "completed", "failed", "interrupted")
        read_tree_summary(store)
        load_frame_markdown(store, "0" * 64, "0" * 64)
    except Exception as error:  # the TUI would show a crash, not a notification
        return f"TUI data loading raised {type(error).__name__}: {error}"
    finally:
        store.close()
    counted["tui_loads"] += 1
    return None


def _variants(focus: set[str]) -> Iterator[tuple[str, str]]:
    """Every kind of garbage for the sub-databases in `focus`, one kind for the others (the
    commands under test read them too, but do not decode their values)."""
    for db_name in sorted(EXPECTED_DBS):
        for kind in GARBAGE_KINDS if db_name in focus else GARBAGE_KINDS[:1]:
            yield db_name, kind


@pytest.fixture(scope="module", autouse=True)
def _print_counts() -> Iterator[None]:
    yield
    report_figures("garbage in every sub-database", **counted)


def _spoiled_copy(built: Built, tmp_path: Path, db_name: str, kind: str) -> Path:
    workspace = tmp_path / "ws"
    shutil.copytree(built.workspace, workspace, symlinks=True)
    store = workspace / ".ctree" / "store"
    counted["values_spoiled"] += _spoil(store, db_name, kind, built.session_ids,
                                        seed=len(db_name) * 31 + len(kind))
    counted["variants"] += 1
    return workspace


def _run_all(workspace: Path, commands: list[list[str]], db_name: str) -> list[str]:
    problems = []
    for args in commands:
        result = run_cli(["-C", str(workspace), *args])
        counted["commands"] += 1
        problem = _problem(args, result)
        if problem is not None:
            problems.append(f"{' '.join(args)}: {problem}")
        if args[:2] == ["sessions", "list"] and db_name in OBSERVABILITY_DBS:
            assert result.code == 0, f"malformed {db_name} values must be skipped: {result}"
    return problems


@pytest.mark.parametrize(("db_name", "kind"), list(_variants(OBSERVABILITY_DBS)))
def test_session_commands_survive_garbage(built: Built, tmp_path: Path, db_name: str,
                                          kind: str) -> None:
    workspace = _spoiled_copy(built, tmp_path, db_name, kind)
    problems = _run_all(workspace, _session_commands(built), db_name)
    assert problems == [], f"on spoiled {db_name} ({kind}):\n" + "\n".join(problems)


@pytest.mark.parametrize(("db_name", "kind"), list(_variants(EXPECTED_DBS - OBSERVABILITY_DBS)))
def test_engine_reads_survive_garbage(built: Built, tmp_path: Path, db_name: str,
                                      kind: str) -> None:
    workspace = _spoiled_copy(built, tmp_path, db_name, kind)
    problems = _run_all(workspace, _engine_commands(built), db_name)
    tui_problem = _load_tui_data(workspace / ".ctree" / "store", workspace)
    problems += [tui_problem] if tui_problem else []
    assert problems == [], f"on spoiled {db_name} ({kind}):\n" + "\n".join(problems)


def test_every_sub_database_is_covered(built: Built) -> None:
    opened = EventStore.open(built.workspace / ".ctree" / "store", create=False)
    try:
        names = sub_database_names(opened)
    finally:
        opened.close()
    assert names <= EXPECTED_DBS, f"new sub-databases to spoil: {sorted(names - EXPECTED_DBS)}"


