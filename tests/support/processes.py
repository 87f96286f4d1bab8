"""Start the test writer as a real subprocess and read its report lines."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def start_writer(store: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.writer", str(store), *args],
        stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT,
    )


def read_line(process: subprocess.Popen[str], prefix: str) -> str:
    """Block until the writer prints a line starting with `prefix`; return the rest."""
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith(prefix):
            return line[len(prefix):].strip()
    raise AssertionError(f"writer exited (rc={process.wait()}) before printing {prefix!r}")
