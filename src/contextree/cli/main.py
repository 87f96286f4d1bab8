"""The console entry point, kept free of imports so that Ctrl-C at any moment of start-up
ends as every other Ctrl-C does: one line, `cancelled`, exit 130, no traceback."""

from __future__ import annotations

import signal
import sys

CANCELLED = "cancelled"
"""What Ctrl-C prints (after `error: `), wherever it lands."""
CANCELLED_EXIT_CODE = 130


def main() -> None:
    """Run `ctree` with the process's arguments and exit with its code."""
    try:
        from contextree.cli.app import run

        code = run()
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C cannot cut the line
        sys.stderr.write(f"error: {CANCELLED}\n")
        sys.stderr.flush()
        code = CANCELLED_EXIT_CODE
    sys.exit(code)
