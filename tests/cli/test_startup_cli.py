"""Start-up through the real entry point: what `ctree --help` imports, bare groups, Ctrl-C.

Nothing here is timed (the figures live in `bench/bench_startup.py`): the test inspects
`sys.modules` of a fresh interpreter after `ctree --help`, so a heavy import that creeps back
into start-up fails it on any machine.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import IO

import click
import pytest
from tests.support.synthetic_sessions import write_ended_sessions

from contextree.cli.app import COMMANDS, cli, run
from contextree.cli.groups import LazyCommand, LazyGroup, help_width
from contextree.cli.sessions import SUBCOMMANDS, sessions

HEAVY_MODULES = (
    "asyncio", "rich.markdown", "markdown_it", "pygments", "watchfiles", "psutil", "textual",
    "openai", "anthropic", "httpx", "lmdb", "blake3", "pathspec", "msgspec", "rich",
    "contextree.progress.runtime", "contextree.engine.generation.orchestrator",
)

PROBE = """
import json, sys
from contextree.cli.app import run
code = run(sys.argv[1:])
sys.stdout.flush()
print("\\nMODULES " + json.dumps(sorted(sys.modules)))
sys.exit(code)
"""


def loaded_modules(*args: str, cwd: Path) -> tuple[int, set[str]]:
    result = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=cwd, capture_output=True,
                            text=True, timeout=120, check=False)
    marker = result.stdout.rindex("MODULES ")
    return result.returncode, set(json.loads(result.stdout[marker + len("MODULES "):]))


def interpreter_modules(cwd: Path) -> set[str]:
    """What a bare interpreter has loaded before running anything (site, .pth files)."""
    result = subprocess.run(
        [sys.executable, "-c", "import json, sys; print(json.dumps(sorted(sys.modules)))"],
        cwd=cwd, capture_output=True, text=True, timeout=120, check=True)
    return set(json.loads(result.stdout))


def heavy_in(modules: set[str]) -> list[str]:
    return sorted(name for name in HEAVY_MODULES
                  if name in modules or any(m.startswith(name + ".") for m in modules))


def test_help_imports_no_heavy_module(tmp_path: Path) -> None:
    code, modules = loaded_modules("--help", cwd=tmp_path)
    assert code == 0
    assert heavy_in(modules) == []
    assert not [m for m in modules if m.startswith("contextree.cli.") and m not in {
        "contextree.cli.app", "contextree.cli.groups", "contextree.cli.main"}], \
        "a command module was imported for --help"
    added = modules - interpreter_modules(tmp_path)
    assert not {"pathlib", "dataclasses", "shutil", "contextree.cli.common",
                "contextree.engine", "contextree.progress"} & added, \
        "--help resolved a workspace, built a dataclass or asked shutil for the width"


@pytest.mark.parametrize("columns", [None, "30", "60", "79", "80", "81", "200", "wide", "-5"])
def test_the_help_width_is_the_one_click_would_choose(
    columns: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    assert help_width() == click.formatting.HelpFormatter().width
    monkeypatch.setattr(click.formatting, "FORCED_WIDTH", 64)  # as click's test runner does
    assert help_width() == click.formatting.HelpFormatter().width == 64


def test_a_read_command_loads_only_what_it_uses(tmp_path: Path) -> None:
    code, modules = loaded_modules("sessions", "list", cwd=tmp_path)
    assert code == 1  # no store here: one line, no import of the writer side
    assert "contextree.cli.sessions" in modules
    assert not {"contextree.cli.context", "contextree.cli.watch", "asyncio", "watchfiles",
                "textual", "openai", "anthropic", "contextree.progress.runtime"} & modules


READ_HEAVY_MODULES = (
    "rich", "contextree.progress.state", "contextree.progress.reducer",
    "contextree.progress.diff", "contextree.progress.verify", "contextree.progress.follow",
    "contextree.progress.event_filter", "contextree.progress.runtime", "socket", "asyncio",
    "psutil", "watchfiles", "textual", "openai", "anthropic", "httpx",
)
"""What neither `sessions list` nor `status` needs: rich (the table is plain text), the
reducer's state model, the other `sessions` subcommands, the writer side, the network."""

GENERATION_MODULES = (
    "contextree.engine.generation.orchestrator", "contextree.engine.generation.queue",
    "contextree.engine.generation.plan", "contextree.engine.generation.prompts",
    "contextree.engine.generation.generate", "contextree.engine.providers.local",
    "contextree.engine.providers.remote", "contextree.engine.providers.openai_provider",
    "contextree.engine.providers.anthropic_provider",
)
"""The generation and provider machinery: `status` reads frames' coverage, it runs nothing."""


def not_imported(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(name for name in names
                  if name in modules or any(m.startswith(name + ".") for m in modules))


@pytest.fixture
def workspace_with_sessions(tmp_path: Path) -> Path:
    """A scanned three-file workspace whose store holds 100 ended sessions."""
    workspace = tmp_path / "ws"
    (workspace / "src").mkdir(parents=True)
    for name in ("a.py", "b.py", "c.py"):
        (workspace / "src" / name).write_text(f"NAME = {name!r}\n", encoding="utf-8")
    write_ended_sessions(workspace / ".ctree" / "store", 100)
    assert run(["-C", str(workspace), "scan"]) == 0
    return workspace


def test_sessions_list_imports_neither_rich_nor_the_reducer(
    workspace_with_sessions: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    code, modules = loaded_modules("sessions", "list", cwd=workspace_with_sessions)
    assert code == 0
    assert "contextree.progress.store" in modules  # it did read the store
    assert not_imported(modules, READ_HEAVY_MODULES) == []
    assert not {"contextree.cli.sessions_diff", "contextree.cli.sessions_verify"} & modules


def test_status_imports_no_generation_machinery(
    workspace_with_sessions: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    code, modules = loaded_modules("status", cwd=workspace_with_sessions)
    assert code == 0
    assert "contextree.engine.workspace.status" in modules  # it did compare the tree
    assert not_imported(modules, READ_HEAVY_MODULES + GENERATION_MODULES) == []


def lazy_groups() -> list[tuple[LazyGroup, dict[str, LazyCommand]]]:
    return [(cli, COMMANDS), (sessions, SUBCOMMANDS)]


@pytest.mark.parametrize("group, lazy_commands", lazy_groups())
def test_lazy_commands_are_the_real_commands_with_the_same_one_line_help(
    group: LazyGroup, lazy_commands: dict[str, LazyCommand]
) -> None:
    context = click.Context(group)
    assert set(lazy_commands) <= set(group.list_commands(context))
    if group is cli:
        assert cli.list_commands(context) == sorted(COMMANDS)
    for name, lazy in lazy_commands.items():
        command = lazy.load()
        assert command.name == name
        assert command.help is not None
        assert command.help.split("\n\n")[0].strip().split("\n")[0] == lazy.short_help, name


@pytest.mark.parametrize("group", [[], ["sessions"], ["context"], ["agent"], ["provider"]])
def test_a_bare_group_prints_its_help_and_exits_0(
    group: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(["-C", str(tmp_path), *group])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.startswith(f"Usage: ctree {' '.join(group)}".rstrip() + " [OPTIONS] COMMAND")
    assert "Commands:" in out and err == ""
    assert not (tmp_path / ".ctree").exists()


INTERRUPT_DURING_IMPORT = """
import sys

TARGET = sys.argv.pop(1)

class Interrupt:
    def find_spec(self, name, path=None, target=None):
        if name == TARGET:
            raise KeyboardInterrupt
        return None

sys.meta_path.insert(0, Interrupt())
from contextree.cli.main import main
main()
"""


@pytest.mark.parametrize("module", ["contextree.cli.app", "click", "contextree.cli.sessions",
                                    "contextree.progress.store"])
def test_ctrl_c_during_start_up_prints_cancelled_and_exits_130(
    module: str, tmp_path: Path
) -> None:
    result = subprocess.run(
        [sys.executable, "-c", INTERRUPT_DURING_IMPORT, module, "sessions", "list"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )
    assert (result.returncode, result.stderr.strip()) == (130, "error: cancelled")
    assert result.stdout == ""


def test_a_real_sigint_during_start_up_prints_cancelled(tmp_path: Path) -> None:
    """SIGINT sent to the real `ctree` script while it imports (its import trace tells where it
    is: after the first of click's modules, which only `main` imports, then some lines later).
    Every outcome is `cancelled` (130), or a normal finish if it outran the signal; never a
    traceback."""
    script = Path(sys.executable).with_name("ctree")
    if not script.is_file():
        pytest.skip("the ctree script is not installed beside this interpreter")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    outcomes = []
    for lines_after_main in (0, 5, 20, 40):
        process = subprocess.Popen(
            [sys.executable, "-X", "importtime", str(script), "sessions", "list"],
            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
            preexec_fn=_default_sigint,  # a runner in the background may have it ignored
        )
        assert process.stderr is not None
        read = _read_until_inside_main(process.stderr, lines_after_main)
        process.send_signal(signal.SIGINT)
        _, rest = process.communicate(timeout=120)
        rest = read + rest
        assert "Traceback" not in rest, rest
        shown = tuple(line for line in rest.splitlines() if not line.startswith("import time:"))
        outcomes.append(process.returncode)
        if process.returncode == 130:
            assert shown == ("", "error: cancelled") or shown == ("error: cancelled",), rest
        else:  # it finished first: no store in an empty folder is one error line
            assert process.returncode == 1 and len(shown) == 1, rest
            assert shown[0].startswith("error: no "), rest
    assert 130 in outcomes


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _read_until_inside_main(stream: IO[str], further_lines: int) -> str:
    """Read the import trace up to the first click module and `further_lines` more."""
    read = []
    for line in iter(stream.readline, ""):
        read.append(line)
        if line.rsplit("|", 1)[-1].strip().startswith("click."):
            break
    for _ in range(further_lines):
        line = stream.readline()
        if not line:
            break
        read.append(line)
    return "".join(read)


def test_the_entry_point_says_cancelled_as_every_other_ctrl_c() -> None:
    from contextree.cli.main import CANCELLED
    from contextree.progress.session import CANCELLED as SESSION_CANCELLED

    assert CANCELLED == SESSION_CANCELLED
