"""Read commands work on a store whose filesystem is mounted read-only.

The workspace is bind-mounted read-only in a new user and mount namespace (`unshare -rm`),
so even root cannot write there; `chmod` would not stop root. Skipped where the machine does
not allow such namespaces.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

READ_COMMANDS = [
    "sessions list",
    "sessions show last",
    "sessions events last",
    "sessions replay last",
    "status",
    "context get a.py",
]
HANG_GUARD_S = 300.0


def _read_only_namespaces_work(probe: Path) -> bool:
    if shutil.which("unshare") is None:
        return False
    script = f"mount --bind {probe} {probe} && mount -o remount,bind,ro {probe} && " \
             f"! touch {probe}/written 2>/dev/null"
    return subprocess.run(["unshare", "-rm", "sh", "-c", script],
                          capture_output=True).returncode == 0


def test_every_read_command_works_on_a_read_only_filesystem(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    if not _read_only_namespaces_work(workspace):
        pytest.skip("user and mount namespaces (unshare -rm) are not permitted here")
    (workspace / "a.py").write_text("A = 1\n", encoding="utf-8")
    ctree = f"{shlex.quote(sys.executable)} -m contextree -C {shlex.quote(str(workspace))}"
    generated = subprocess.run(f"{ctree} context generate", shell=True, capture_output=True,
                               text=True, timeout=HANG_GUARD_S)
    assert generated.returncode == 0, generated.stderr
    where = shlex.quote(str(workspace))
    lines = [f"mount --bind {where} {where}", f"mount -o remount,bind,ro {where}"]
    lines += [f"{ctree} {command} >/dev/null 2>&1; echo \"{command}: $?\""
              for command in READ_COMMANDS]
    lines.append(f"touch {where}/proof 2>/dev/null; echo \"write: $?\"")
    run = subprocess.run(["unshare", "-rm", "sh", "-c", "\n".join(lines)], capture_output=True,
                         text=True, timeout=HANG_GUARD_S)
    codes = dict(line.rsplit(": ", 1) for line in run.stdout.splitlines())
    assert codes.pop("write") != "0", "the filesystem was not read-only"
    assert codes == {command: "0" for command in READ_COMMANDS}, run.stderr
