"""Every reliability test prints its figures in one form, so `pytest tests/reliability -s`
gives the numbers the README's table is made from:

    FIGURES crash loop (raw writer): runs=200 acknowledged=325080 lost=0 …
"""

from __future__ import annotations

from typing import Any


def report_figures(name: str, **figures: Any) -> None:
    """Print one `FIGURES` line: the test's name and its counts, in the order given."""
    values = " ".join(f"{key}={_format(value)}" for key, value in figures.items())
    print(f"\nFIGURES {name}: {values}", flush=True)


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, dict):
        return ",".join(f"{key}:{_format(item)}" for key, item in sorted(value.items()))
    return str(value)
