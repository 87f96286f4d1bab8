"""Byte sizes as people read them: one unit family everywhere (binary: B, KiB, MiB, GiB).

The CLI, the TUI and the local provider's generated text all format sizes here, so the same
file reads `3.1 KiB` wherever it appears.
"""

from __future__ import annotations

UNITS = ("B", "KiB", "MiB", "GiB", "TiB")


def format_bytes(size: int) -> str:
    """`812 B`, `3.1 KiB`, `2.4 MiB`: powers of 1024, one decimal above a kibibyte."""
    value = float(size)
    for unit in UNITS:
        if abs(value) < 1024 or unit == UNITS[-1]:
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable: the last unit always returns")
