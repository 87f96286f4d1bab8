"""The freshness meter: how long events take from `emit` to the screen.

Each live event painted adds one sample, `time painted − event ts`; the meter keeps the last
`FRESHNESS_WINDOW` and reports their p50 and p95 in milliseconds (the status bar shows them).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable

FRESHNESS_WINDOW = 200


class FreshnessMeter:
    """A sliding window of emit → painted latencies."""

    def __init__(self, *, window: int = FRESHNESS_WINDOW) -> None:
        self._samples: deque[float] = deque(maxlen=window)

    def __len__(self) -> int:
        return len(self._samples)

    def add(self, painted_s: float, emitted_s: Iterable[float]) -> None:
        """Record events emitted at `emitted_s` (epoch seconds) and painted at `painted_s`."""
        for emitted in emitted_s:
            self._samples.append(max(0.0, (painted_s - emitted) * 1000))

    def clear(self) -> None:
        self._samples.clear()

    def percentiles(self) -> tuple[float, float] | None:
        """`(p50, p95)` in milliseconds, or None before the first live event."""
        if not self._samples:
            return None
        ordered = sorted(self._samples)
        return percentile(ordered, 50), percentile(ordered, 95)


def percentile(ordered: list[float], pct: float) -> float:
    """The `pct` percentile of an ascending list (nearest rank)."""
    if not ordered:
        raise ValueError("no samples")
    rank = max(0, min(len(ordered) - 1, math.ceil(pct / 100 * len(ordered)) - 1))
    return ordered[rank]
